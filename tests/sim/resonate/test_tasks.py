"""Tasks: an invoke task for a promise tagged `resonate:invoke`, resume tasks from callbacks, notify
messages from subscriptions, all delivered over the long-poll message source; claims, heartbeats and
completions with counters; a lapsed lease is resent with the next counter."""

from __future__ import annotations

import queue

import pytest
import requests

from sim.resonate import PromiseServer
from tests.sim.resonate.test_promises import FAR, create, settle

INVOKE_ANY = {"resonate:invoke": "poll://any@default"}


def post(server: PromiseServer, path: str, body: dict) -> requests.Response:
    return requests.post(f"{server.url}{path}", json=body, timeout=10)


def test_an_invoke_task_is_delivered_claimed_and_completed(server: PromiseServer, poller) -> None:
    worker = poller(pid="w1")
    create(server, "fn-1", tags=INVOKE_ANY)
    message = worker.next()
    assert message == {"type": "invoke", "task": {"id": "__invoke:fn-1", "counter": 1}}
    claimed = post(server, "/tasks/claim", {"id": "__invoke:fn-1", "counter": 1, "processId": "w1", "ttl": 10000})
    assert claimed.status_code == 201
    root = claimed.json()["promises"]["root"]
    assert claimed.json()["type"] == "invoke" and root["data"]["id"] == "fn-1"
    assert root["href"] == f"{server.url}/promises/fn-1"  # the Go server's href: its URL and the promise's path
    again = post(server, "/tasks/claim", {"id": "__invoke:fn-1", "counter": 1, "processId": "w2", "ttl": 10000})
    assert again.status_code == 403 and again.json()["error"]["code"] == 40305
    assert post(server, "/tasks/heartbeat", {"processId": "w1"}).json() == {"tasksAffected": 1}
    assert post(server, "/tasks/complete", {"id": "__invoke:fn-1", "counter": 1}).status_code == 201
    assert post(server, "/tasks/complete", {"id": "__invoke:fn-1", "counter": 1}).status_code == 200
    assert post(server, "/tasks/heartbeat", {"processId": "w1"}).json() == {"tasksAffected": 0}
    assert post(server, "/tasks/claim", {"id": "nope", "counter": 1, "processId": "w1", "ttl": 1}).status_code == 404


def test_create_with_task_claims_the_invoke_task_for_the_caller(server: PromiseServer) -> None:
    body = {"promise": {"id": "fn-2", "timeout": FAR, "param": {}, "tags": INVOKE_ANY},
            "task": {"processId": "me", "ttl": 10000}}  # fmt: skip
    first = requests.post(f"{server.url}/promises/task", json=body, headers={"idempotency-Key": "fn-2"}, timeout=10)
    assert first.status_code == 201
    task = first.json()["task"]  # the OpenAPI document's Task: its timeout is the promise's
    assert {k: task[k] for k in ("id", "counter", "timeout", "processId")} == {
        "id": "__invoke:fn-2", "counter": 1, "timeout": FAR, "processId": "me"}
    second = requests.post(f"{server.url}/promises/task", json=body, headers={"idempotency-Key": "fn-2"}, timeout=10)
    assert second.status_code == 200 and "task" not in second.json()
    assert post(server, "/tasks/heartbeat", {"processId": "me"}).json() == {"tasksAffected": 1}


def test_a_lapsed_lease_is_resent_with_the_next_counter_and_the_old_one_is_refused(server: PromiseServer, poller) -> None:
    worker = poller(pid="w1")
    create(server, "fn-3", tags=INVOKE_ANY)
    assert worker.next()["task"]["counter"] == 1
    post(server, "/tasks/claim", {"id": "__invoke:fn-3", "counter": 1, "processId": "w1", "ttl": 200})
    assert worker.next(timeout=10)["task"] == {"id": "__invoke:fn-3", "counter": 2}  # the lease lapsed
    late = post(server, "/tasks/complete", {"id": "__invoke:fn-3", "counter": 1})
    assert late.status_code == 403 and late.json()["error"]["code"] == 40308  # no longer claimed
    stale = post(server, "/tasks/claim", {"id": "__invoke:fn-3", "counter": 1, "processId": "w1", "ttl": 1000})
    assert stale.status_code == 403 and stale.json()["error"] == {**stale.json()["error"], "code": 40307,
                                                                 "message": "The task counter is invalid"}  # fmt: skip
    post(server, "/tasks/claim", {"id": "__invoke:fn-3", "counter": 2, "processId": "w2", "ttl": 10000})
    other = post(server, "/tasks/complete", {"id": "__invoke:fn-3", "counter": 1})
    assert other.status_code == 403 and other.json()["error"]["code"] == 40307  # w2's claim has counter 2


def test_completing_a_task_its_promise_already_ended_is_ok_whatever_the_counter(server: PromiseServer, poller) -> None:
    # The Go server (coroutines/completeTask.go) answers 200 for a completed task: the function's root
    # promise completed it (here, while a lapsed lease had moved the counter on).
    worker = poller(pid="w1")
    create(server, "fn-5", tags=INVOKE_ANY)
    worker.next()
    post(server, "/tasks/claim", {"id": "__invoke:fn-5", "counter": 1, "processId": "w1", "ttl": 200})
    assert worker.next(timeout=10)["task"]["counter"] == 2  # the lease lapsed
    settle(server, "fn-5", "RESOLVED")  # the function's promise completes: its open task ends
    done = post(server, "/tasks/complete", {"id": "__invoke:fn-5", "counter": 1})
    assert done.status_code == 200 and done.json()["id"] == "__invoke:fn-5" and done.json()["counter"] == 2
    unclaimed = post(server, "/tasks/claim", {"id": "__invoke:fn-5", "counter": 2, "processId": "w1", "ttl": 1000})
    assert unclaimed.status_code == 403 and unclaimed.json()["error"]["code"] == 40306  # nor claimed again


def test_a_callback_resumes_the_root_function_through_the_group_when_its_process_is_gone(server: PromiseServer, poller) -> None:
    create(server, "root")
    create(server, "leaf")
    cb = post(server, "/promises/callback/leaf", {"rootPromiseId": "root", "timeout": FAR,
                                                  "recv": "poll://any@default/dead-process"})  # fmt: skip
    assert cb.status_code == 201 and cb.json()["callback"]["id"] == "__resume:root:leaf"
    repeat = post(server, "/promises/callback/leaf", {"rootPromiseId": "root", "timeout": FAR, "recv": "poll://any@default/x"})
    assert repeat.status_code == 200 and "callback" not in repeat.json()
    worker = poller(pid="another-process")
    settle(server, "leaf", "RESOLVED")
    message = worker.next()
    assert message == {"type": "resume", "task": {"id": "__resume:root:leaf", "counter": 1}}
    claimed = post(server, "/tasks/claim", {"id": "__resume:root:leaf", "counter": 1, "processId": "another-process",
                                            "ttl": 10000}).json()  # fmt: skip
    assert claimed["promises"]["root"]["data"]["id"] == "root"
    assert claimed["promises"]["leaf"]["data"]["state"] == "RESOLVED"
    done = post(server, "/promises/callback/leaf", {"rootPromiseId": "root", "timeout": FAR, "recv": "poll://any@default/x"})
    assert done.status_code == 200 and done.json()["promise"]["state"] == "RESOLVED"


def test_a_subscription_notifies_only_its_own_process(server: PromiseServer, poller) -> None:
    create(server, "watched")
    other, mine = poller(pid="other"), poller(pid="mine")
    sub = post(server, "/promises/subscribe/watched", {"id": "mine", "timeout": FAR, "recv": "poll://uni@default/mine"})
    assert sub.status_code == 201
    settle(server, "watched", "REJECTED")
    note = mine.next()
    assert note["type"] == "notify" and note["promise"]["id"] == "watched" and note["promise"]["state"] == "REJECTED"
    with pytest.raises(queue.Empty):
        other.next(timeout=1)
    assert post(server, "/promises/subscribe/nope", {"id": "m", "timeout": FAR, "recv": "x"}).status_code == 404


def test_a_task_waits_for_a_worker_of_its_group_to_connect(server: PromiseServer, poller) -> None:
    create(server, "fn-4", tags={"resonate:invoke": "poll://any@etl"})
    default = poller(group="default", pid="w")
    with pytest.raises(queue.Empty):
        default.next(timeout=1)
    assert poller(group="etl", pid="e").next()["task"]["id"] == "__invoke:fn-4"


def test_a_dropped_task_is_delivered_again_with_the_next_counter(server: PromiseServer, poller) -> None:
    # The Go server's dropTask.go: a claimed task goes back to INIT with counter + 1 (201); one that is not
    # claimed is already dropped (200); another claim's counter is refused.
    worker = poller(pid="w1")
    create(server, "fn-6", tags=INVOKE_ANY)
    worker.next()
    post(server, "/tasks/claim", {"id": "__invoke:fn-6", "counter": 1, "processId": "w1", "ttl": 60_000})
    wrong = post(server, "/tasks/drop", {"id": "__invoke:fn-6", "counter": 2})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == 40307
    assert post(server, "/tasks/drop", {"id": "__invoke:fn-6", "counter": 1}).status_code == 201
    assert worker.next()["task"] == {"id": "__invoke:fn-6", "counter": 2}
    assert post(server, "/tasks/drop", {"id": "__invoke:fn-6", "counter": 2}).status_code == 200  # not claimed
    assert post(server, "/tasks/drop", {"id": "nope", "counter": 1}).status_code == 404
