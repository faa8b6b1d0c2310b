"""Crash and restart: the fake workspace SIGKILLed with a run in flight and started again on the same
port and state. The pipeline's own Databricks client (lambdas._databricks) rides out the outage with
its retries, a retried start (same idempotency token) gets the run it started before the crash instead
of a second one, and the check step sees the in-flight run resolved as documented (INTERNAL_ERROR,
"stopped while this run was in flight"), so the state machine takes its failure path instead of hanging.
A cluster worker killed mid-task is flown through the whole pipeline (slow)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from harness.experiment.model import ExperimentPlan, PlannedFault
from harness.ports import free_port
from lambdas import check_databricks_job, start_databricks_job
from lambdas._databricks import DatabricksClient, RetryPolicy
from tests.reliability.conftest import make_runner

TOKEN = "dapi" + "7" * 32


def _start(state_dir: Path, port: int) -> subprocess.Popen:
    (state_dir / "host").unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.databricks", "--state-dir", str(state_dir), "--port", str(port)],
        env={**os.environ, "DATABRICKS_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: SIGKILL takes its children down with it, like a crash
    )
    deadline = time.monotonic() + 60
    while not (state_dir / "host").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the workspace process did not come up"
        time.sleep(0.05)
    return process


def _api(port: int, method: str, path: str, body: dict | None = None) -> dict:
    response = requests.request(method, f"http://127.0.0.1:{port}{path}", json=body, timeout=10,
                                headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return response.json()


def _crash(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


@pytest.fixture
def workspace_process(tmp_path):
    port = free_port()
    processes = [_start(tmp_path, port)]
    yield tmp_path, port, processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


def test_pipeline_client_rides_out_a_sigkilled_workspace_and_sees_the_in_flight_run_resolved(workspace_process):
    state_dir, port, processes = workspace_process
    client = DatabricksClient(f"http://127.0.0.1:{port}", lambda: TOKEN,
                              retry=RetryPolicy(max_attempts=8, fallback_delay=0.5, max_delay=2, budget=30))
    job_id = _api(port, "POST", "/api/2.1/jobs/create", {"name": "etl", "tasks": [
        {"task_key": "etl", "notebook_task": {"notebook_path": "/Shared/anything"}}]})["job_id"]
    # A slow start keeps the run in flight without a cluster (the workspace's own fault API).
    _api(port, "POST", "/api/2.0/stepbricks/faults", {"kind": "task", "effect": "SLOW_START", "delay_seconds": 600})
    event = {"job_id": job_id, "execution_id": "arn:aws:states:us-east-1:1:execution:p:e1", "step": "etl",
             "job_parameters": {"source_uri": "s3://raw/incoming/a.csv"}}
    started = start_databricks_job.lambda_handler(event, client=client)
    assert client.get_run(started["run_id"])["state"]["life_cycle_state"] in ("PENDING", "QUEUED", "RUNNING")

    _crash(processes[0])
    restarter = threading.Timer(1.5, lambda: processes.append(_start(state_dir, port)))
    restarter.start()
    try:
        assert processes[0].poll() is not None and len(processes) == 1  # the call below starts into an outage
        # The Step Functions Retry of StartEtl: the same execution and step, hence the same idempotency token.
        again = start_databricks_job.lambda_handler(event, client=client)
    finally:
        restarter.join(90)  # 1.5 s, then _start's own 60 s deadline
    assert not restarter.is_alive(), "the workspace restart never finished"

    assert len(processes) == 2
    assert again["run_id"] == started["run_id"], "a retried start after the crash started a second run"
    checked = check_databricks_job.lambda_handler({"run_id": started["run_id"]}, client=client)
    assert checked["is_complete"] is True and checked["is_successful"] is False
    assert checked["life_cycle_state"] == "INTERNAL_ERROR"
    assert "stopped while this run was in flight" in checked["state_message"]
    listed = _api(port, "GET", f"/api/2.1/jobs/runs/list?job_id={job_id}")
    assert [r["run_id"] for r in listed["runs"]] == [started["run_id"]]


@pytest.mark.slow
@pytest.mark.e2e
def test_a_cluster_worker_killed_mid_etl_is_retried_and_the_pipeline_succeeds(stepbricks, experiment_env,
                                                                              shipped_slots):
    runner = make_runner(stepbricks, experiment_env, shipped_slots[:1], rows=1000)
    plan = ExperimentPlan(0, faults=(PlannedFault("cluster", "etl", {"kill_worker": True}, (1,), detail="etl"),))

    verdict = runner.run_one(plan)

    assert verdict.ok, verdict.violations
    assert verdict.status == "SUCCEEDED"
    assert [a["target"] for a in verdict.applied] == [f"cluster:{shipped_slots[0].prefix}stepbricks-etl/etl"]
    (etl_run,) = verdict.observation.runs_by_job["etl"]
    run = stepbricks.workspace().api_client.do("GET", "/api/2.1/jobs/runs/get", query={"run_id": etl_run["run_id"]})
    attempts = sorted(t.get("attempt_number", 0) for t in run["tasks"])
    assert attempts == [0, 1], run["tasks"]
