"""The reference pipeline flown end to end, through the real trigger: an upload to the raw bucket.

Each test reads as the claim it proves; all of them share one simulator and one deployment per session.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.runner import RunResult, run_pipeline
from harness.views import failure_reason
from sim.data.generator import generate

pytestmark = pytest.mark.e2e


def _fly(stepbricks, deployed_pipeline, path: Path, variant: str = "polling") -> RunResult:
    return run_pipeline(stepbricks.env, deployed_pipeline, path, variant=variant, timeout=600)


def _notifications_for(notification_inbox, execution_arn: str) -> list[dict]:
    return notification_inbox.messages_for(execution_arn)


def _list_keys(stepbricks, bucket: str, prefix: str) -> list[str]:
    s3 = stepbricks.client("s3")
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def test_pipeline_succeeds_on_clean_data_and_notifies_success(
    stepbricks, deployed_pipeline, notification_inbox, tmp_path
):
    path = tmp_path / "clean.csv"
    generate(path, rows=2000, seed=1, fmt="csv", dirty_share=0.0)

    result = _fly(stepbricks, deployed_pipeline, path)

    assert result.succeeded, (result.trace.error, result.trace.cause)
    visited = [v.name for v in result.trace.visits]
    for state in ("ValidateFile", "NotifySuccess"):
        assert state in visited
    etl = result.step_output("etl")
    assert etl["rows_in"] == 2000
    assert etl["rows_written"] + etl["rows_quarantined"] == etl["rows_in"]
    evaluation = result.step_output("evaluate")
    assert evaluation["gate"]["passed"] is True
    assert evaluation["metrics"]["roc_auc"] > 0.7
    assert {r["job_id"] for r in result.databricks_runs} == set(deployed_pipeline.jobs.values())
    assert all(r["state"]["result_state"] == "SUCCESS" for r in result.databricks_runs)
    notes = _notifications_for(notification_inbox, result.execution_arn)
    assert len(notes) == 1 and "Succeeded" in notes[0]["subject"]


def test_dirty_rows_are_quarantined_and_counted_exactly(stepbricks, deployed_pipeline, tmp_path):
    path = tmp_path / "dirty.csv"
    report = generate(path, rows=3000, seed=2, fmt="csv", dirty_share=0.05)

    result = _fly(stepbricks, deployed_pipeline, path)

    assert result.succeeded, (result.trace.error, result.trace.cause)
    etl = result.step_output("etl")
    assert etl["rows_in"] == report.rows
    assert etl["rows_quarantined"] == report.rows - report.clean_rows
    assert etl["rows_written"] == report.clean_rows
    assert etl["quarantine_reasons"] == report.expected_quarantine_reasons()
    bucket, prefix = etl["quarantine_uri"].removeprefix("s3://").split("/", 1)
    assert _list_keys(stepbricks, bucket, prefix), "quarantined rows were written somewhere"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "File is empty"),
        ("header-only.csv", b"customer_id,signup_date,age,city,plan,tenure_months,monthly_charges,total_charges,support_calls,churned\n", "no data rows"),
        ("broken.json", b'[{"customer_id": "C1", ', "Invalid JSON"),
        ("notes.txt", b"not a data file\n", "Unsupported file extension"),
        # none of the dataset's columns: refused at validation, not quarantined row by row by the ETL
        ("abc.csv", b"a,b,c\n1,2,3\n", "lacks the required columns ['customer_id', 'signup_date', 'age', 'city'"),
    ],
)
def test_invalid_files_take_the_invalid_path_and_notify(
    stepbricks, deployed_pipeline, notification_inbox, tmp_path, name, content, reason
):
    path = tmp_path / name
    path.write_bytes(content)

    result = _fly(stepbricks, deployed_pipeline, path)

    visited = [v.name for v in result.trace.visits]
    assert "NotifyInvalidFile" in visited
    assert not any(v.startswith("StartEtl") for v in visited)
    assert result.databricks_runs == []
    notes = _notifications_for(notification_inbox, result.execution_arn)
    assert len(notes) == 1
    assert reason in json.dumps(notes[0]), notes[0]
    assert "ValidateFile refused the file: " in failure_reason(result.trace) and reason in failure_reason(result.trace)


def test_callback_variant_succeeds_with_task_tokens(stepbricks, deployed_pipeline, tmp_path):
    path = tmp_path / "callback.csv"
    generate(path, rows=1500, seed=3, fmt="csv")

    result = _fly(stepbricks, deployed_pipeline, path, variant="callback")

    assert result.succeeded, (result.trace.error, result.trace.cause)
    assert result.step_output("evaluate")["gate"]["passed"] is True


def test_map_variant_processes_every_file_under_a_prefix(stepbricks, deployed_pipeline, tmp_path):
    path = tmp_path / "map.jsonl"
    generate(path, rows=1500, seed=4, fmt="jsonl")

    result = _fly(stepbricks, deployed_pipeline, path, variant="map")

    assert result.succeeded, (result.trace.error, result.trace.cause)


def test_reuploading_the_same_file_duplicates_neither_output_nor_databricks_runs(
    stepbricks, deployed_pipeline, tmp_path
):
    path = tmp_path / "again.csv"
    generate(path, rows=1000, seed=5, fmt="csv")
    first = _fly(stepbricks, deployed_pipeline, path)
    assert first.succeeded
    etl = first.step_output("etl")
    bucket, prefix = etl["output_uri"].removeprefix("s3://").split("/", 1)
    keys_before = sorted(_list_keys(stepbricks, bucket, prefix))

    second = _fly(stepbricks, deployed_pipeline, path)

    assert second.execution_arn == first.execution_arn, "the same object must map to the same execution"
    assert sorted(_list_keys(stepbricks, bucket, prefix)) == keys_before
    runs = stepbricks.workspace().api_client.do(
        "GET", "/api/2.1/jobs/runs/list", query={"job_id": deployed_pipeline.jobs["etl"], "limit": 25}
    )
    etl_runs_for_execution = [
        r for r in runs.get("runs", []) if json.dumps(r.get("job_parameters", "")).find(etl["output_uri"]) >= 0
    ]
    assert len(etl_runs_for_execution) <= 1
