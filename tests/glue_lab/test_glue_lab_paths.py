"""Seed 003 flown end to end: its Lambdas, Glue scripts, state machine and sample files, used as written."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from harness.glue_lab import SAMPLES
from sim import clock

CSV = (SAMPLES / "sample_data.csv").read_bytes()
JSON = (SAMPLES / "sample_data.json").read_bytes()
VALID_PATH_END = ["JobCompletionChoice", "JobSuccessChoice", "NotifySuccess"]


def _rows(lab, keys: list[str]) -> list[dict]:
    s3 = lab.client("s3")
    rows = []
    for key in keys:
        body = s3.get_object(Bucket=lab.deployment.buckets["processed"], Key=key)["Body"].read()
        rows += pq.read_table(io.BytesIO(body)).to_pylist()
    return rows


def test_csv_upload_runs_the_csv_glue_job_and_notifies_success(lab) -> None:
    run = lab.upload("incoming/people.csv", CSV)
    assert run.status == "SUCCEEDED"
    assert run.path[:3] == ["ValidateFile", "FileValidationChoice", "StartGlueJob"]
    assert run.path[-3:] == VALID_PATH_END
    assert run.notification_status == "Pipeline Completed Successfully"
    rows = _rows(lab, run.processed_keys)
    assert sorted(r["name"] for r in rows) == ["Jane Smith", "John Doe", "Michael Brown", "Robert Johnson",
                                              "Sarah Williams"]
    assert all(r["processing_date"] is not None for r in rows)
    assert {type(r["age"]) for r in rows} == {int}  # inferSchema typed the column, as on Glue
    runs = lab.client("glue").get_job_runs(JobName="process-csv-data")["JobRuns"]
    assert runs[0]["JobRunState"] == "SUCCEEDED"
    assert runs[0]["Arguments"]["--source_key"] == "incoming/people.csv"
    # The Glue job metrics of this run, as Glue emits them (namespace Glue, Type=count).
    assert _glue_metric(lab, "glue.driver.aggregate.numFailedTasks", "process-csv-data", runs[0]["Id"]) == [0.0]
    (elapsed,) = _glue_metric(lab, "glue.driver.aggregate.elapsedTime", "process-csv-data", runs[0]["Id"])
    assert 0 < elapsed <= (runs[0]["ExecutionTime"] + 1) * 1000


def test_json_upload_runs_the_json_glue_job_and_notifies_success(lab) -> None:
    run = lab.upload("incoming/records.json", JSON)
    assert run.status == "SUCCEEDED"
    assert run.path[-3:] == VALID_PATH_END
    assert run.notification_status == "Pipeline Completed Successfully"
    assert run.processed_keys and all(k.startswith("processed/records/") for k in run.processed_keys)


@pytest.mark.parametrize(("key", "body", "error"), [
    ("incoming/notes.txt", b"just text\n", "Unsupported file type"),
    ("incoming/header_only.csv", b"id,name,age,city\n", "File is empty"),
])
def test_unsupported_or_empty_file_takes_the_invalid_path(lab, key: str, body: bytes, error: str) -> None:
    run = lab.upload(key, body)
    assert run.status == "SUCCEEDED"
    assert run.path == ["ValidateFile", "FileValidationChoice", "NotifyInvalidFile"]
    assert run.notification_status == "File Validation Failed"
    assert f'"error": "{error}"' in run.notifications[0]["message"]


def test_failing_glue_run_takes_the_failure_path_with_the_glue_error_and_sets_off_the_glue_alarm(lab) -> None:
    glue_alarm = _alarm_named(lab, "glue-lab-glue-job-failures")
    assert _alarm_state(lab, glue_alarm) != "ALARM"
    failed_before = _glue_metric(lab, "glue.driver.aggregate.numFailedTasks", "process-csv-data", "ALL")
    lab.plan.add("glue", "process-csv-data", error="OutOfMemoryError: simulated")
    run = lab.upload("incoming/doomed.csv", CSV)
    assert run.status == "SUCCEEDED"
    assert run.path[-2:] == ["JobSuccessChoice", "NotifyFailure"]
    assert run.notification_status == "Pipeline Failed"
    assert '"jobStatus": "FAILED"' in run.notifications[0]["message"]
    failed = lab.client("glue").get_job_runs(JobName="process-csv-data")["JobRuns"][0]
    assert (failed["JobRunState"], failed["ErrorMessage"]) == ("FAILED", "OutOfMemoryError: simulated")
    assert _glue_metric(lab, "glue.driver.aggregate.numFailedTasks", "process-csv-data", failed["Id"]) == [1.0]
    failed_after = _glue_metric(lab, "glue.driver.aggregate.numFailedTasks", "process-csv-data", "ALL")
    assert sum(failed_after) - sum(failed_before) == 1.0
    assert _glue_metric(lab, "glue.driver.aggregate.elapsedTime", "process-csv-data", failed["Id"])
    assert _alarm_state(lab, glue_alarm) == "ALARM"


def test_failed_execution_puts_the_executions_failed_and_lambda_errors_alarms_in_alarm(lab) -> None:
    alarms = [_alarm_named(lab, "data-processing-pipeline-executions-failed"),
              _alarm_named(lab, "glue-lab-lambda-errors")]
    cloudwatch = lab.client("cloudwatch")
    assert [_alarm_state(lab, a) for a in alarms] != ["ALARM", "ALARM"]
    # The notification Lambda fails on the invalid path: NotifyInvalidFile has no Catch, so the execution fails.
    lab.plan.add("lambda", "send-notification-function", error="RuntimeError")
    run = lab.upload("incoming/bad.txt", b"x\n")
    assert run.status == "FAILED"
    for alarm in alarms:
        state = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
        assert state["StateValue"] == "ALARM", (alarm, state["StateReason"])
        assert "were GreaterThanOrEqualToThreshold 1" in state["StateReason"], state["StateReason"]


def test_the_lab_deploys_its_three_alarms_on_executions_lambda_errors_and_glue_failures(lab) -> None:
    described = lab.client("cloudwatch").describe_alarms(AlarmNames=lab.deployment.alarms)["MetricAlarms"]
    assert sorted((a["Namespace"], a["MetricName"]) for a in described) == [
        ("AWS/Lambda", "Errors"), ("AWS/States", "ExecutionsFailed"),
        ("Glue", "glue.driver.aggregate.numFailedTasks")]


def test_execution_and_lambda_metrics_reach_cloudwatch(lab) -> None:
    cloudwatch = lab.client("cloudwatch")
    before = _totals(lab)
    run = lab.upload("incoming/again.txt", b"x\n")
    assert run.status == "SUCCEEDED"
    after = _totals(lab)
    assert after["ExecutionsStarted"] - before["ExecutionsStarted"] == 1
    assert after["ExecutionsSucceeded"] - before["ExecutionsSucceeded"] == 1
    # ValidateFile and NotifyInvalidFile invoked their functions through the Lambda API.
    assert after["Invocations"] - before["Invocations"] == 2
    names = {m["Dimensions"][0]["Value"] for m in cloudwatch.list_metrics(Namespace="AWS/Lambda",
                                                                          MetricName="Duration")["Metrics"]
             if m["Dimensions"]}
    assert {"file-validation-function", "send-notification-function"} <= names


def _alarm_named(lab, suffix: str) -> str:
    (name,) = [a for a in lab.deployment.alarms if a.endswith(suffix)]
    return name


def _alarm_state(lab, alarm: str) -> str:
    return lab.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]


def _glue_metric(lab, name: str, job: str, run_id: str) -> list[float]:
    """The sums of each datapoint of a Glue job metric over the last day (one per period with data)."""
    now = clock.utcnow()
    points = lab.client("cloudwatch").get_metric_statistics(
        Namespace="Glue", MetricName=name, Statistics=["Sum"], Period=86400,
        Dimensions=[{"Name": "JobName", "Value": job}, {"Name": "JobRunId", "Value": run_id},
                    {"Name": "Type", "Value": "count"}],
        StartTime=now - datetime.timedelta(days=1), EndTime=now + datetime.timedelta(minutes=1),
    )["Datapoints"]
    return [p["Sum"] for p in points]


def _totals(lab) -> dict[str, float]:
    from harness.glue_lab import metric_totals

    totals = metric_totals(lab.client("cloudwatch"), lab.deployment)
    return {k.split(" ")[1]: v for k, v in totals.items() if k.startswith(("AWS/States", "AWS/Lambda"))}


def test_the_lab_uses_the_seed_files_as_written(seed_text) -> None:
    text = seed_text("003")
    root = Path(__file__).resolve().parents[2]
    for script in ("process_csv_data.py", "process_json_data.py"):
        body = (root / "glue_jobs" / script).read_text().split("\n", 2)[2]  # after the two-line header
        assert body.strip() in text
