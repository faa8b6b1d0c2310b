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
    assert claimed.json()["type"] == "invoke" and claimed.json()["promises"]["root"]["data"]["id"] == "fn-1"
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
    assert first.status_code == 201 and first.json()["task"] == {"id": "__invoke:fn-2", "counter": 1}
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
    assert late.status_code == 403 and late.json()["error"]["code"] == 40305


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
