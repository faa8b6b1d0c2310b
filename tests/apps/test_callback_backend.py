"""Seed 002's backend: the pipeline waits on a promise that the Databricks job resolves, and survives a
backend crash while the job runs (the durable state lives in Step Functions, not in the backend)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.apps.conftest import Backend, World

pytestmark = [pytest.mark.slow]


def _wait_for_run(world: World, job_id: int, count: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = world.runs(job_id)
        if len(runs) >= count:
            return runs[0]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} has no run #{count} after {timeout} s")


def test_the_promise_is_resolved_by_the_job_and_the_pipeline_resumes(world: World, backend_for) -> None:
    backend: Backend = backend_for("quick")
    assert backend.run("order-1") == "working on it"
    assert backend.wait_done("order-1") == "I am done"
    runs = world.runs(world.jobs["quick"])
    assert len(runs) == 1 and runs[0]["state"]["result_state"] == "SUCCESS"
    task = world.dbx("GET", "/api/2.1/jobs/runs/get", query={"run_id": runs[0]["run_id"]})["tasks"][0]
    output = world.dbx("GET", "/api/2.1/jobs/runs/get-output", query={"run_id": task["run_id"]})
    assert output["notebook_output"]["result"] == "processed 3 rows"
    notified = [m["message"] for m in world.aws.sns_messages()]
    assert "data pipeline order-1 is ready: processed 3 rows" in notified
    assert backend.run("order-1") == "I am done"  # asking again starts nothing new
    assert len(world.runs(world.jobs["quick"])) == 1


def test_a_backend_restart_while_the_job_runs_still_completes_the_pipeline(world: World, backend_for) -> None:
    backend: Backend = backend_for("slow")
    assert backend.run("order-2") == "working on it"
    run = _wait_for_run(world, world.jobs["slow"], 1)
    backend.kill()
    state = world.dbx("GET", "/api/2.1/jobs/runs/get", query={"run_id": run["run_id"]})["state"]
    assert state["life_cycle_state"] in ("QUEUED", "PENDING", "RUNNING"), state  # the crash is mid-run
    with pytest.raises(requests.ConnectionError):
        backend.run("order-2")
    backend.start()  # a new process, same address: nothing but Step Functions remembers the pipeline
    assert backend.wait_done("order-2") == "I am done"
    runs = world.runs(world.jobs["slow"])
    assert len(runs) == 1 and runs[0]["state"]["result_state"] == "SUCCESS"
    assert "data pipeline order-2 is ready: processed 3 rows" in [m["message"] for m in world.aws.sns_messages()]


def test_resolving_an_unknown_promise_is_refused(world: World, backend_for) -> None:
    backend: Backend = backend_for("quick")
    answer = requests.post(f"{backend.url}/resolve", params={"id": "not-a-token", "value": "x"}, timeout=30)
    assert answer.status_code == 400
    assert "InvalidToken" in answer.json()["detail"]
