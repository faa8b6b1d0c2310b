"""The promise API as resonate-sdk's RemoteStore calls it: create, read, complete with idempotency keys and
strict mode, search; the status codes and error bodies of the Resonate server."""

from __future__ import annotations

import requests

from sim.resonate import PromiseServer

FAR = 2**50  # a timeout (ms since the epoch) far in the future


def create(server: PromiseServer, pid: str, *, ikey: str | None = None, strict: bool = False, timeout: int = FAR,
           tags: dict | None = None) -> requests.Response:  # fmt: skip
    headers = {"strict": str(strict)} | ({"idempotency-Key": ikey} if ikey else {})
    return requests.post(f"{server.url}/promises", headers=headers, timeout=10,
                         json={"id": pid, "timeout": timeout, "param": {"data": "cGFyYW0="}, "tags": tags or {}})  # fmt: skip


def settle(server: PromiseServer, pid: str, state: str, *, ikey: str | None = None, strict: bool = False,
           data: str = "dmFsdWU=") -> requests.Response:  # fmt: skip
    headers = {"strict": str(strict)} | ({"idempotency-Key": ikey} if ikey else {})
    return requests.patch(f"{server.url}/promises/{pid}", headers=headers, json={"state": state, "value": {"data": data}},
                          timeout=10)  # fmt: skip


def test_create_answers_201_then_200_for_the_same_key_and_409_for_another(server: PromiseServer) -> None:
    first = create(server, "p1", ikey="k")
    assert first.status_code == 201
    body = first.json()
    assert body["state"] == "PENDING" and body["idempotencyKeyForCreate"] == "k"
    assert body["param"] == {"headers": None, "data": "cGFyYW0="} and body["completedOn"] is None
    assert create(server, "p1", ikey="k").status_code == 200
    for other in ("other", None):
        conflict = create(server, "p1", ikey=other)
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == 40900


def test_read_of_an_unknown_promise_is_404_with_the_servers_error_body(server: PromiseServer) -> None:
    answer = requests.get(f"{server.url}/promises/nope", timeout=10)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == 40400
    assert answer.json()["error"]["message"] == "The specified promise was not found"
    detail = answer.json()["error"]["details"][0]  # as the Go server's HandleRequestError words it
    assert detail["@type"] == "RequestError" and detail["domain"] == "request"
    assert detail["metadata"] == {"url": "https://docs.resonatehq.io/reference/error-codes#40400"}
    assert settle(server, "nope", "RESOLVED").status_code == 404


def test_resolve_is_201_once_then_deduplicated_only_with_the_same_idempotency_key(server: PromiseServer) -> None:
    create(server, "p2")
    done = settle(server, "p2", "RESOLVED", ikey="r")
    assert done.status_code == 201
    assert done.json()["state"] == "RESOLVED" and done.json()["value"]["data"] == "dmFsdWU="
    again = settle(server, "p2", "RESOLVED", ikey="r", data="b3RoZXI=")
    assert again.status_code == 200 and again.json()["value"]["data"] == "dmFsdWU="  # the first value stays
    for ikey in ("other", None):
        refused = settle(server, "p2", "RESOLVED", ikey=ikey)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == 40300


def test_strict_mode_deduplicates_only_the_same_state(server: PromiseServer) -> None:
    create(server, "p3")
    assert settle(server, "p3", "REJECTED", ikey="x").status_code == 201
    assert settle(server, "p3", "RESOLVED", ikey="x").status_code == 200  # not strict: the key is enough
    strict = settle(server, "p3", "RESOLVED", ikey="x", strict=True)
    assert strict.status_code == 403 and strict.json()["error"]["code"] == 40301
    assert settle(server, "p3", "REJECTED", ikey="x", strict=True).status_code == 200
    assert create(server, "p3", strict=True).status_code == 409  # no create key: a conflict first


def test_strict_create_deduplicates_only_a_pending_promise(server: PromiseServer) -> None:
    # The Go server (coroutines/createPromise.go): (not strict or still pending) and the same create key.
    create(server, "p6", ikey="c")
    assert create(server, "p6", ikey="c", strict=True).status_code == 200
    settle(server, "p6", "RESOLVED")
    assert create(server, "p6", ikey="c").status_code == 200
    conflict = create(server, "p6", ikey="c", strict=True)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == 40900


def test_cancel_settles_as_rejected_canceled(server: PromiseServer) -> None:
    create(server, "p4")
    assert settle(server, "p4", "REJECTED_CANCELED").json()["state"] == "REJECTED_CANCELED"
    assert settle(server, "p4", "RESOLVED").json()["error"]["code"] == 40302


def test_invalid_requests_are_400(server: PromiseServer) -> None:
    missing = requests.post(f"{server.url}/promises", json={"id": "x"}, timeout=10)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 40000
    create(server, "p5")
    assert settle(server, "p5", "REJECTED_TIMEDOUT").status_code == 400


def test_a_promise_past_its_timeout_is_timed_out_when_read_and_refuses_completion_in_strict_mode(
    server: PromiseServer,
) -> None:
    created = create(server, "late", ikey="c", timeout=server.clock.now_ms() - 1)
    assert created.status_code == 201 and created.json()["state"] == "PENDING"  # as the Go server creates it
    got = requests.get(f"{server.url}/promises/late", timeout=10).json()
    assert got["state"] == "REJECTED_TIMEDOUT" and got["completedOn"] == got["timeout"]
    assert settle(server, "late", "RESOLVED").status_code == 200  # not strict: answered with the timed-out promise
    assert settle(server, "late", "RESOLVED", strict=True).json()["error"]["code"] == 40303
    create(server, "resolves", timeout=server.clock.now_ms() - 1, tags={"resonate:timeout": "true"})
    assert requests.get(f"{server.url}/promises/resolves", timeout=10).json()["state"] == "RESOLVED"


def test_search_by_id_pattern_state_and_tags_newest_first_a_page_at_a_time(server: PromiseServer) -> None:
    # The Go server: `id` required (`*` matches any run of characters), newest first, limit 1 to 100, and a
    # cursor that carries the whole next request (api.SearchPromises, PROMISE_SEARCH_STATEMENT).
    for i in range(5):
        create(server, f"order/{i}", tags={"kind": "even" if i % 2 == 0 else "odd"})
    create(server, "other/1")
    settle(server, "order/4", "RESOLVED")
    search = f"{server.url}/promises"
    page = requests.get(search, params={"id": "order/*", "state": "PENDING", "limit": 2}, timeout=10).json()
    assert [p["id"] for p in page["promises"]] == ["order/3", "order/2"]
    rest = requests.get(search, params={"cursor": page["cursor"]}, timeout=10).json()  # the cursor alone
    assert [p["id"] for p in rest["promises"]] == ["order/1", "order/0"] and rest["cursor"] is None
    even = requests.get(search, params={"id": "*", "tags[kind]": "even"}, timeout=10).json()
    assert [p["id"] for p in even["promises"]] == ["order/4", "order/2", "order/0"]
    resolved = requests.get(search, params={"id": "order/*", "state": "resolved"}, timeout=10).json()
    assert [p["id"] for p in resolved["promises"]] == ["order/4"]
    assert requests.get(search, params={"id": "order/?"}, timeout=10).json()["promises"] == []  # only * is a wildcard
    for bad in ({}, {"id": "*", "limit": 101}, {"id": "*", "limit": 0}, {"id": "*", "state": "done"}, {"cursor": "x"}):
        refused = requests.get(search, params=bad, timeout=10)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == 40000, bad
