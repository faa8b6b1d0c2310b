"""The HTTP variant flown end to end: HTTP Tasks start the Databricks jobs (jobs/run-now) and poll them
(runs/get, runs/get-output) with the workspace token from an EventBridge connection; no Lambda talks to
Databricks. Its Retry and Catch paths are flown against the fake workspace's own faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.runner import RunResult, run_pipeline
from harness.views import failure_reason
from sim.data.generator import generate

pytestmark = pytest.mark.e2e
FLIGHT_SECONDS = 360
HTTP = "arn:aws:states:::http:invoke"


def _fly(stepbricks, deployed_pipeline, path: Path) -> RunResult:
    if "http" in deployed_pipeline.unsupported:  # Step Functions Local / LocalStack have no HTTP Task
        pytest.skip(f"the HTTP variant needs the HTTP Task: {deployed_pipeline.unsupported['http']}")
    return run_pipeline(stepbricks.env, deployed_pipeline, path, variant="http", timeout=FLIGHT_SECONDS)


@pytest.fixture
def workspace_faults(stepbricks) -> Iterator[Any]:
    faults = stepbricks.require_simulator("workspace faults").databricks.faults
    faults.reset()
    yield faults
    faults.reset()


def _visits(result: RunResult, name: str) -> list:
    return [v for v in result.trace.visits if v.name == name]


def _task_resources(result: RunResult) -> dict[str, str]:
    """State name -> the Resource its TaskScheduled event names (resourceType:resource)."""
    found: dict[str, str] = {}
    entered = None
    for event in result.trace.events:
        details = event.get("stateEnteredEventDetails")
        if details:
            entered = details["name"]
        scheduled = event.get("taskScheduledEventDetails")
        if scheduled and entered:
            found[entered] = f"{scheduled['resourceType']}:{scheduled['resource']}"
    return found


def _databricks_lambda_starts(stepbricks, deployed_pipeline) -> int | None:
    """How many times the start/check Lambdas ran so far (None off the embedded simulator: no runtime logs)."""
    if stepbricks.simulator is None:
        return None
    aws = stepbricks.simulator.aws
    names = [deployed_pipeline.functions[k].rsplit(":", 1)[-1] for k in ("start-databricks-job", "check-databricks-job")]
    return sum(line.startswith("START") for name in names for line in aws.lambda_logs(name))


def test_http_variant_runs_the_jobs_through_http_tasks_and_succeeds(stepbricks, deployed_pipeline, tmp_path):
    path = tmp_path / "http.csv"
    report = generate(path, rows=1500, seed=21, fmt="csv", dirty_share=0.02)
    lambda_starts = _databricks_lambda_starts(stepbricks, deployed_pipeline)

    result = _fly(stepbricks, deployed_pipeline, path)

    assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
    etl = result.step_output("etl")
    assert (etl["rows_in"], etl["rows_written"]) == (report.rows, report.clean_rows)
    assert result.step_output("train")["model_version"]
    assert result.step_output("evaluate")["gate"]["passed"] is True
    resources = _task_resources(result)
    for step in ("Etl", "Train", "Evaluate"):
        for state in (f"Start{step}", f"Check{step}", f"Get{step}Output"):
            assert resources[state] == "http:invoke", (state, resources[state])
    assert {r["job_id"] for r in result.databricks_runs} == set(deployed_pipeline.jobs.values())
    assert all(r["state"]["result_state"] == "SUCCESS" for r in result.databricks_runs)
    assert _databricks_lambda_starts(stepbricks, deployed_pipeline) == lambda_starts, "a Lambda talked to Databricks"


def test_a_lost_run_now_answer_and_a_throttled_poll_are_retried_without_a_second_run(
    stepbricks, deployed_pipeline, workspace_faults, tmp_path
):
    # run-now starts the run but its answer is lost (503 after the handler ran): the retried call carries the
    # same idempotency token and gets the same run back. The first poll is throttled (429) and retried.
    workspace_faults.http("POST /api/2.*/jobs/run-now", 503, times=1, after_handler=True)
    workspace_faults.http("GET /api/2.*/jobs/runs/get", 429, times=1)
    path = tmp_path / "http-retried.csv"
    generate(path, rows=800, seed=22, fmt="csv")

    result = _fly(stepbricks, deployed_pipeline, path)

    assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
    (start_etl,) = _visits(result, "StartEtl")
    assert start_etl.attempts == 2
    assert _visits(result, "CheckEtl")[0].attempts == 2
    failures = [e["taskFailedEventDetails"]["error"] for e in result.trace.events if "taskFailedEventDetails" in e]
    assert failures == ["States.Http.StatusCode.503", "States.Http.StatusCode.429"]
    etl_runs = [r for r in result.databricks_runs if r["job_id"] == deployed_pipeline.jobs["etl"]]
    assert len(etl_runs) == 1
    w = stepbricks.workspace()
    runs_of_this_file = [r.run_id for r in w.jobs.list_runs(job_id=deployed_pipeline.jobs["etl"])
                         if any(p.name == "source_uri" and p.value == result.input_uri for p in r.job_parameters or [])]
    assert runs_of_this_file == [etl_runs[0]["run_id"]], "the retried run-now started a second run"


def test_a_failed_etl_run_takes_the_failure_path(stepbricks, deployed_pipeline, workspace_faults, tmp_path):
    workspace_faults.task("FAILED", job_id=deployed_pipeline.jobs["etl"], message="injected: source unreadable")
    path = tmp_path / "http-fails.csv"
    generate(path, rows=500, seed=23, fmt="csv")

    result = _fly(stepbricks, deployed_pipeline, path)

    assert (result.trace.status, result.trace.error) == ("FAILED", "PipelineFailed")
    visited = [v.name for v in result.trace.visits]
    assert "NotifyFailure" in visited and "GetEtlOutput" not in visited and "StartTrain" not in visited
    last_check = _visits(result, "CheckEtl")[-1]
    assert last_check.output["etlStatus"]["state"]["result_state"] == "FAILED"


def test_a_refused_http_call_is_caught_and_notified(stepbricks, deployed_pipeline, workspace_faults,
                                                    notification_inbox, tmp_path):
    workspace_faults.http("GET /api/2.*/jobs/runs/get-output", 403, times=1,
                          body={"error_code": "PERMISSION_DENIED", "message": "injected: token lacks CAN_VIEW"})
    path = tmp_path / "http-refused.csv"
    generate(path, rows=500, seed=24, fmt="csv")

    result = _fly(stepbricks, deployed_pipeline, path)

    assert (result.trace.status, result.trace.error) == ("FAILED", "PipelineFailed")
    (get_output,) = _visits(result, "GetEtlOutput")
    assert (get_output.attempts, get_output.error) == (1, "States.Http.StatusCode.403")  # not retried
    notify = _visits(result, "NotifyFailure")[0]
    caught = notify.output["error"]
    assert caught["Error"] == "States.Http.StatusCode.403"
    assert json.loads(caught["Cause"])["ResponseBody"]["error_code"] == "PERMISSION_DENIED"
    notes = notification_inbox.messages_for(result.execution_arn)
    assert len(notes) == 1 and "Failed" in notes[0]["subject"]
