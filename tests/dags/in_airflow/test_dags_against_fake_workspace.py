"""Seed 001's DAGs run with `dag.test()` and Airflow's Databricks provider against the fake workspace."""

from __future__ import annotations

import pytest

from tests.dags.in_airflow.airflow_support import JOB_NAME, FakeWorkspace, load_dag


def test_run_now_dag_succeeds_and_the_job_ran(workspace: FakeWorkspace, deployed: dict) -> None:
    run = load_dag("databricks_job_trigger").test()
    assert run.state == "success"
    latest = workspace.latest_run(deployed["job_id"])
    assert latest["state"]["result_state"] == "SUCCESS"
    task_run = latest["tasks"][0]["run_id"]
    output = workspace.call("GET", "/api/2.1/jobs/runs/get-output", query={"run_id": task_run})
    assert output["notebook_output"]["result"] == "hello from the fake workspace"


def test_injected_task_failure_fails_the_airflow_task_with_the_run_error(
    workspace: FakeWorkspace, deployed: dict, task_fault, capfd: pytest.CaptureFixture[str]
) -> None:
    task_fault(kind="task", effect="FAILED", job_name=JOB_NAME, message="injected: executor lost")
    run = load_dag("databricks_job_trigger").test()
    assert run.state == "failed"
    ti = run.get_task_instance("run_databricks_job")
    assert ti.state == "failed"
    logged = "".join(capfd.readouterr())
    assert "run_databricks_job failed with terminal state" in logged
    assert "injected: executor lost" in logged
    assert workspace.latest_run(deployed["job_id"])["state"]["result_state"] == "FAILED"


def test_submit_run_dag_runs_the_notebook_without_a_job(workspace: FakeWorkspace, deployed: dict) -> None:
    before = workspace.call("GET", "/api/2.1/jobs/runs/list", query={"run_type": "SUBMIT_RUN"}).get("runs", [])
    run = load_dag("databricks_submit_run").test()
    assert run.state == "success"
    runs = workspace.call("GET", "/api/2.1/jobs/runs/list", query={"run_type": "SUBMIT_RUN"}).get("runs", [])
    assert len(runs) > len(before)
