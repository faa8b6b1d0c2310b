"""Restart loses nothing (SQLite), and deadlines follow the simulator's clock: a virtual clock that skips
or is advanced times promises out and fires schedules without wall time passing."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from sim.resonate import PromiseServer
from tests.sim.resonate.conftest import Poller
from tests.sim.resonate.test_promises import FAR, create, settle

HOUR_MS = 3_600_000


def _state(server: PromiseServer, pid: str) -> str:
    return requests.get(f"{server.url}/promises/{pid}", timeout=10).json()["state"]


def _wait_for(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_restarted_server_has_its_promises_callbacks_tasks_schedules_and_idempotency_keys(tmp_path: Path) -> None:
    state = tmp_path / "resonate"
    with PromiseServer.start(state_dir=state) as first:
        create(first, "kept", ikey="k")
        create(first, "leaf")
        requests.post(f"{first.url}/promises/callback/leaf", timeout=10,
                      json={"rootPromiseId": "kept", "timeout": FAR, "recv": "poll://any@default/w"})  # fmt: skip
        create(first, "fn", tags={"resonate:invoke": "poll://any@default"})
        requests.post(f"{first.url}/tasks/claim", json={"id": "__invoke:fn", "counter": 1, "processId": "p",
                                                        "ttl": HOUR_MS}, timeout=10).raise_for_status()  # fmt: skip
        requests.post(f"{first.url}/schedules", json={"id": "hourly", "cron": "0 * * * *", "promiseId": "h.{{.timestamp}}",
                                                      "promiseTimeout": HOUR_MS}, timeout=10).raise_for_status()  # fmt: skip
    with PromiseServer.start(state_dir=state) as second:
        assert create(second, "kept", ikey="k").status_code == 200
        assert requests.get(f"{second.url}/schedules/hourly", timeout=10).json()["cron"] == "0 * * * *"
        claimed = requests.post(f"{second.url}/tasks/claim", json={"id": "__invoke:fn", "counter": 1, "processId": "q",
                                                                   "ttl": 1}, timeout=10)  # fmt: skip
        assert claimed.json()["error"]["code"] == 40305  # still p's claim
        assert requests.post(f"{second.url}/tasks/heartbeat", json={"processId": "p"}, timeout=10).json() == {
            "tasksAffected": 1}
        worker = Poller(second, "default", "w")
        try:
            assert settle(second, "leaf", "RESOLVED").status_code == 201
            assert worker.next()["task"]["id"] == "__resume:kept:leaf"  # the callback survived the restart
        finally:
            worker.close()


def test_an_idle_virtual_clock_skips_to_a_promise_timeout(virtual: PromiseServer) -> None:
    start = virtual.clock.now_ms()
    create(virtual, "slow", timeout=start + 6 * HOUR_MS)
    wall = time.monotonic()
    _wait_for(lambda: _state(virtual, "slow") == "REJECTED_TIMEDOUT")
    assert time.monotonic() - wall < 10  # six virtual hours
    assert virtual.clock.now_ms() >= start + 6 * HOUR_MS


def test_advancing_the_virtual_clock_times_a_promise_out_and_resumes_its_waiter(virtual: PromiseServer) -> None:
    worker = Poller(virtual, "default", "w")  # a connected worker: the clock runs at wall speed, never skips
    try:
        create(virtual, "root")
        create(virtual, "deadline", timeout=virtual.clock.now_ms() + HOUR_MS)
        requests.post(f"{virtual.url}/promises/callback/deadline", timeout=10,
                      json={"rootPromiseId": "root", "timeout": FAR, "recv": "poll://any@default/w"})  # fmt: skip
        time.sleep(0.5)
        assert _state(virtual, "deadline") == "PENDING"  # no skip while a worker is connected
        virtual.clock.advance(3600)
        assert worker.next()["task"]["id"] == "__resume:root:deadline"
        assert _state(virtual, "deadline") == "REJECTED_TIMEDOUT"
    finally:
        worker.close()


def test_a_schedule_creates_its_promises_on_the_virtual_clock(virtual: PromiseServer) -> None:
    body = {"id": "nightly", "cron": "0 2 * * *", "promiseId": "nightly.{{.timestamp}}", "promiseTimeout": HOUR_MS,
            "promiseParam": {"data": "e30="}, "promiseTags": {"kind": "etl"}}  # fmt: skip
    made = requests.post(f"{virtual.url}/schedules", json=body, headers={"idempotency-Key": "s"}, timeout=10)
    assert made.status_code == 201 and made.json()["nextRunTime"] % 86_400_000 == 2 * HOUR_MS
    assert requests.post(f"{virtual.url}/schedules", json=body, headers={"idempotency-Key": "s"}, timeout=10).status_code == 200
    conflict = requests.post(f"{virtual.url}/schedules", json=body, timeout=10)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == 40901
    first_run = made.json()["nextRunTime"]
    # Nothing else is busy, so virtual time runs on through later nights while this polls: the first run
    # is the one to look at, not the last (waiting for `lastRunTime == first_run` raced the next night's).
    _wait_for(lambda: (requests.get(f"{virtual.url}/schedules/nightly", timeout=10).json()["lastRunTime"] or 0)
              >= first_run)
    promise = requests.get(f"{virtual.url}/promises/nightly.{first_run}", timeout=10).json()
    assert promise["tags"] == {"kind": "etl"} and promise["param"]["data"] == "e30="
    # As of the run it stands for (the Go server's schedulePromises.go), not of when the loop noticed it.
    assert promise["createdOn"] == first_run and promise["timeout"] == first_run + HOUR_MS
    found = requests.get(f"{virtual.url}/schedules", params={"id": "night*"}, timeout=10).json()
    assert [s["id"] for s in found["schedules"]] == ["nightly"] and found["cursor"] is None
    assert requests.delete(f"{virtual.url}/schedules/nightly", timeout=10).status_code == 204
    assert requests.get(f"{virtual.url}/schedules/nightly", timeout=10).status_code == 404
    bad = requests.post(f"{virtual.url}/schedules", json={**body, "id": "bad", "cron": "61 * * * *"}, timeout=10)
    assert bad.status_code == 400


def test_schedules_are_searched_by_id_pattern_and_tags_newest_first(server: PromiseServer) -> None:
    for i in range(3):
        body = {"id": f"report/{i}", "cron": "0 * * * *", "promiseId": f"report/{i}.{{{{.timestamp}}}}",
                "promiseTimeout": HOUR_MS, "tags": {"team": "data" if i < 2 else "ml"}}  # fmt: skip
        assert requests.post(f"{server.url}/schedules", json=body, timeout=10).status_code == 201
    page = requests.get(f"{server.url}/schedules", params={"id": "report/*", "limit": 2}, timeout=10).json()
    assert [s["id"] for s in page["schedules"]] == ["report/2", "report/1"]
    rest = requests.get(f"{server.url}/schedules", params={"cursor": page["cursor"]}, timeout=10).json()
    assert [s["id"] for s in rest["schedules"]] == ["report/0"] and rest["cursor"] is None
    ml = requests.get(f"{server.url}/schedules", params={"id": "*", "tags[team]": "ml"}, timeout=10).json()
    assert [s["id"] for s in ml["schedules"]] == ["report/2"]
    assert requests.get(f"{server.url}/schedules", params={"id": "*", "limit": "x"}, timeout=10).status_code == 400
