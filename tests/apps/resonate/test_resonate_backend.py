"""Seed 002 as written: the Resonate function triggers the Databricks job, waits on a durable promise, and
resumes when the notebook's last cell calls `/resolve`; it survives a backend crash while the job runs,
and a repeated `/resolve` with the same idempotency key is accepted once."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.apps.resonate.conftest import World
from tests.apps.seed_world import Backend

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]



def _value(promise: dict) -> object:
    return json.loads(base64.b64decode(promise["value"]["data"]))


def test_the_job_resolves_the_promise_and_the_function_resumes_and_finishes(world: World, backend_for) -> None:
    backend: Backend = backend_for("quick")
    assert backend.run("order-1") == "working on it"
    assert backend.wait_done("order-1") == "I am done"
    run = world.only_run("quick")
    params = world.dbx("GET", "/api/2.1/jobs/runs/get", query={"run_id": run["run_id"]})["overriding_parameters"]
    assert params["notebook_params"]["promise_id"] == "order-1.1"  # ctx.promise()'s id travelled to the job
    assert world.notebook_result(run) == "processed 3 rows"
    waited_on = world.promise("order-1.1")
    assert waited_on["state"] == "RESOLVED" and waited_on["idempotencyKeyForComplete"] == "order-1.1"
    assert _value(waited_on) == "processed 3 rows"
    assert world.promise("order-1")["state"] == "RESOLVED"  # the function finished
    assert "databricks execution has finished with value processed 3 rows" in backend.logs()
    assert backend.run("order-1") == "I am done"  # asking again starts nothing new
    assert len(world.runs(world.jobs["quick"])) == 1


def test_a_backend_killed_while_the_job_runs_is_restarted_and_finishes_with_one_job_run(world: World, backend_for) -> None:
    backend: Backend = backend_for("slow")
    world.crash_while_the_job_runs(backend, "order-2")
    backend.start()  # a new process (a new Resonate pid), same address: only the promise server remembers
    assert backend.wait_done("order-2") == "I am done"
    world.only_run("slow")
    assert world.promise("order-2")["state"] == "RESOLVED"
    assert "databricks execution has finished with value processed 3 rows" in backend.logs()


def test_a_repeated_resolve_with_the_same_idempotency_key_is_accepted_once(world: World, backend_for) -> None:
    backend: Backend = backend_for("quick")
    requests.post(f"{world.promises.url}/promises", json={"id": "callback-1", "timeout": 2**50}, timeout=10)
    assert backend.resolve("callback-1", "first").status_code == 200
    first = world.promise("callback-1")
    assert backend.resolve("callback-1", "second").status_code == 200  # same key (the id): deduplicated
    again = world.promise("callback-1")
    assert _value(again) == "first" and again["completedOn"] == first["completedOn"]
    # Resolved by someone else (another key): the seed's handler lets the SDK's 403 through as a 500.
    requests.post(f"{world.promises.url}/promises", json={"id": "callback-2", "timeout": 2**50}, timeout=10)
    requests.patch(f"{world.promises.url}/promises/callback-2", json={"state": "RESOLVED", "value": {}},
                   headers={"idempotency-Key": "someone-else"}, timeout=10)  # fmt: skip
    assert backend.resolve("callback-2", "late").status_code == 500
