"""check_databricks_job against the fake workspace: states, completion, and the task's exit value."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import OperationFailed

from lambdas.check_databricks_job import lambda_handler
from lambdas.start_databricks_job import lambda_handler as start

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:pipeline:check"


def _start(job_id: int, step: str) -> int:
    event = {
        "job_id": job_id,
        "step": step,
        "execution_id": EXECUTION,
        "job_parameters": {"source_uri": f"s3://b/{step}"},
    }
    return start(event)["run_id"]


def test_a_successful_run_is_complete_with_the_notebook_exit_value_parsed(databricks, jobs, wait_for):
    run_id = _start(jobs["single"], "single")
    first = lambda_handler({"run_id": run_id})
    assert first["run_id"] == run_id
    assert first["life_cycle_state"] in {"QUEUED", "PENDING", "RUNNING", "TERMINATING", "TERMINATED"}
    wait_for(run_id)
    done = lambda_handler({"run_id": str(run_id)})
    assert done["life_cycle_state"] == "TERMINATED"
    assert done["result_state"] == "SUCCESS"
    assert done["is_complete"] and done["is_successful"]
    assert done["output"] == {
        "output_uri": "s3://stepbricks-processed/processed",
        "source_uri": "s3://b/single",
        "task": "main",
    }


def test_output_of_a_multi_task_run_is_read_from_each_task_run_not_the_parent(databricks, jobs, wait_for):
    run_id = _start(jobs["multi"], "multi")
    wait_for(run_id)
    done = lambda_handler({"run_id": run_id})
    assert done["is_successful"]
    assert done["output"]["b"] == {"task": "b"}
    assert done["output"]["a"]["task"] == "main"
    assert lambda_handler({"run_id": run_id, "task_key": "b"})["output"] == {"task": "b"}


def test_a_failed_run_is_complete_unsuccessful_and_has_no_output(databricks, jobs, wait_for):
    run_id = _start(jobs["fails"], "fails")
    try:
        wait_for(run_id)
    except OperationFailed:
        pass  # the SDK's waiter raises on INTERNAL_ERROR; the state is what matters here
    done = lambda_handler({"run_id": run_id})
    assert done["is_complete"] and not done["is_successful"]
    assert done["result_state"] == "FAILED"
    assert done["state_message"]
    assert done["output"] is None


def test_runs_get_answered_503_is_retried_then_reported(databricks, jobs):
    from lambdas._databricks import DatabricksClient

    run_id = _start(jobs["single"], "retry-get")
    databricks.faults.http("GET /api/2.*/jobs/runs/get", 503, times=1, retry_after=1)
    sleeps: list[float] = []
    result = lambda_handler({"run_id": run_id}, client=DatabricksClient.from_environment(sleep=sleeps.append))
    assert sleeps == [1.0]
    assert result["run_id"] == run_id


def test_an_unknown_run_raises_DatabricksNotFound(databricks):
    from lambdas._errors import DatabricksNotFound

    with pytest.raises(DatabricksNotFound, match="Run 99999999 does not exist"):
        lambda_handler({"run_id": 99999999})
