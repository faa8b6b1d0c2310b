"""`databricks_task` and `cluster` faults from the simulator's fault plan, the plan `workspace.faults` adds
to as well: asserted on the run objects runs/get returns (attempts, result states, start/end times in
virtual time) and on the plan's one record of what fired."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sim import faults
from sim.simulator import Simulator


@pytest.fixture(scope="module")
def dbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    # Private, not the session `stepbricks` simulator: a test here kills the cluster's worker on purpose.
    with Simulator.start(state_dir=tmp_path_factory.mktemp("dbx-faults"), keep_state=False) as simulator:
        yield simulator


@pytest.fixture
def plan():
    previous = faults.activate(faults.FaultPlan())
    yield faults.active()
    faults.activate(previous)


def _api(sim: Simulator, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    assert sim.databricks is not None
    response = requests.request(method, sim.databricks.host + path, timeout=30,
                                headers={"Authorization": f"Bearer {sim.databricks.token}"}, **kwargs)
    response.raise_for_status()
    return response.json()


def _submit(sim: Simulator, run_name: str, task: dict[str, Any], timeout_s: float = 120) -> dict[str, Any]:
    run_id = _api(sim, "POST", "/api/2.1/jobs/runs/submit", json={"run_name": run_name, "tasks": [task]})["run_id"]
    deadline, pause = time.monotonic() + timeout_s, threading.Event()
    while time.monotonic() < deadline:
        run = _api(sim, "GET", "/api/2.1/jobs/runs/get", params={"run_id": run_id})
        if run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):
            return run
        pause.wait(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout_s} s of wall time")


def _task(key: str, **extra: Any) -> dict[str, Any]:
    return {"task_key": key, "spark_python_task": {"python_file": "/Repos/stepbricks/does_not_matter.py"},
            "existing_cluster_id": "unused", **extra}


def test_failed_attempts_are_retried_after_min_retry_interval_of_virtual_time(dbx, plan):
    plan.add("databricks_task", "nightly", detail="etl", attempts="1-3", result_state="FAILED", message="boom")
    started = time.monotonic()
    run = _submit(dbx, "nightly", _task("etl", max_retries=2, min_retry_interval_millis=600_000))
    assert run["state"]["result_state"] == "FAILED"
    attempts = sorted(run["tasks"], key=lambda t: t["attempt_number"])
    assert [t["attempt_number"] for t in attempts] == [0, 1, 2]
    assert all(t["state"]["result_state"] == "FAILED" for t in attempts)
    gaps = [(b["start_time"] - a["end_time"]) / 1000 for a, b in itertools.pairwise(attempts)]
    assert gaps == [pytest.approx(600, abs=1), pytest.approx(600, abs=1)]
    assert time.monotonic() - started < 60
    assert [(a.target, a.occurrence) for a in plan.applied] == [("databricks_task:nightly/etl", n) for n in (1, 2, 3)]


def test_internal_error_and_timeout_effects_end_the_task_that_way(dbx, plan):
    plan.add("databricks_task", "broken", detail="etl", internal_error=True)
    plan.add("databricks_task", "slow", detail="etl", timeout=True)
    broken = _submit(dbx, "broken", _task("etl"))
    slow = _submit(dbx, "slow", _task("etl"))
    # A workspace reports an internal error as life cycle INTERNAL_ERROR with result FAILED.
    assert (broken["tasks"][0]["state"]["life_cycle_state"], broken["tasks"][0]["state"]["result_state"]) == (
        "INTERNAL_ERROR", "FAILED")
    assert broken["tasks"][0]["status"]["termination_details"]["code"] == "INTERNAL_ERROR"
    assert slow["tasks"][0]["state"]["result_state"] == "TIMEDOUT"


def test_the_workspaces_faults_join_the_plan_first_added_wins_and_only_it_is_recorded(dbx, plan):
    assert dbx.databricks is not None
    added = dbx.databricks.faults.task("INTERNAL_ERROR", job_name="both", task_key="etl")
    plan.add("databricks_task", "both", detail="etl", result_state="FAILED")
    try:
        run = _submit(dbx, "both", _task("etl"))
    finally:
        dbx.databricks.faults.reset()
    assert run["tasks"][0]["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert [(a.target, a.occurrence, a.label) for a in plan.applied] == [
        ("databricks_task:both/etl", 1, f"workspace fault {added.fault_id}")]
    assert len(plan.faults) == 1  # reset removed the workspace's fault, not the plan's


def test_a_slow_cluster_start_past_the_runs_timeout_times_the_run_out_at_its_deadline(dbx, plan):
    plan.add("databricks_task", "late", detail="etl", slow_start_seconds=3600)
    started = time.monotonic()
    run = _api(dbx, "POST", "/api/2.1/jobs/runs/submit",
               json={"run_name": "late", "timeout_seconds": 600, "tasks": [_task("etl")]})["run_id"]
    finished = _wait(dbx, run)
    assert finished["tasks"][0]["state"]["result_state"] == "TIMEDOUT"
    assert (finished["end_time"] - finished["start_time"]) / 1000 == pytest.approx(600, abs=2)
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_killing_the_cluster_worker_mid_task_ends_the_attempt_internal_error_and_the_retry_runs(dbx, plan):
    import base64

    source = "# Databricks notebook source\nimport time\ntime.sleep(2)\ndbutils.notebook.exit('done')\n"
    _api(dbx, "POST", "/api/2.0/workspace/mkdirs", json={"path": "/Shared/faults"})
    _api(dbx, "POST", "/api/2.0/workspace/import", json={
        "path": "/Shared/faults/sleepy", "format": "SOURCE", "language": "PYTHON", "overwrite": True,
        "content": base64.b64encode(source.encode()).decode()})
    plan.add("cluster", "chaos", detail="work", attempts=1, kill_worker=True)
    task = {"task_key": "work", "notebook_task": {"notebook_path": "/Shared/faults/sleepy"}, "max_retries": 1}
    run = _submit(dbx, "chaos", task, timeout_s=300)
    attempts = sorted(run["tasks"], key=lambda t: t["attempt_number"])
    assert attempts[0]["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert "cluster worker died" in attempts[0]["state"]["state_message"]
    assert attempts[1]["state"]["result_state"] == "SUCCESS"
    assert [a.target for a in plan.applied] == ["cluster:chaos/work"]


def _wait(sim: Simulator, run_id: int, timeout_s: float = 120) -> dict[str, Any]:
    deadline, pause = time.monotonic() + timeout_s, threading.Event()
    while time.monotonic() < deadline:
        run = _api(sim, "GET", "/api/2.1/jobs/runs/get", params={"run_id": run_id})
        if run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):
            return run
        pause.wait(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout_s} s of wall time")
