"""The reference pipeline flown end to end, through the real trigger: an upload to the raw bucket.

Each test reads as the claim it proves; all of them share one simulator and one deployment per session.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from harness.follow import ExecutionTrace, follow
from harness.map_results import map_results
from harness.reporting import report_for_result
from harness.runner import RunResult, databricks_runs_of, run_pipeline
from harness.views import failure_reason
from sim.data.generator import generate

pytestmark = pytest.mark.e2e
# One flight's patience, below pytest's per-test timeout (600 s) so that it, not pytest, reports a stuck
# execution; a test that flies twice says so with its own timeout.
FLIGHT_SECONDS = 360


def _fly(stepbricks, deployed_pipeline, path: Path, variant: str = "polling") -> RunResult:
    return run_pipeline(stepbricks.env, deployed_pipeline, path, variant=variant, timeout=FLIGHT_SECONDS)


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

    assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
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

    assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
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

    assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
    assert result.step_output("evaluate")["gate"]["passed"] is True


def _fly_map(stepbricks, deployed_pipeline, paths: list[Path]) -> tuple[ExecutionTrace, list[dict], str, list[dict]]:
    """Upload `paths` under one fresh prefix and start the Map variant on it, as `run_pipeline` does
    for one file; returns the trace, the Databricks runs it started, the prefix and the children's records
    its ResultWriter wrote."""
    bucket, prefix = deployed_pipeline.buckets["raw"], f"batches/multi-{uuid.uuid4().hex[:12]}/"
    for path in paths:
        stepbricks.client("s3").upload_file(str(path), bucket, prefix + path.name)
    sfn = stepbricks.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=deployed_pipeline.state_machines["map"],
                              name=f"map-{prefix.split('-')[-1].rstrip('/')}",
                              input=json.dumps({"bucket": bucket, "prefix": prefix}))["executionArn"]
    trace = follow(sfn, arn, sleep=time.sleep, timeout=FLIGHT_SECONDS)
    records = map_results(stepbricks.env, trace)
    return trace, databricks_runs_of(stepbricks.env, deployed_pipeline, trace, records), prefix, records


def test_map_variant_processes_every_valid_file_under_a_prefix_and_skips_each_invalid_one_saying_why(
    stepbricks, deployed_pipeline, tmp_path
):
    reports = {
        "a.csv": generate(tmp_path / "a.csv", rows=1200, seed=4, fmt="csv", dirty_share=0.03),
        "b.jsonl": generate(tmp_path / "b.jsonl", rows=800, seed=14, fmt="jsonl", dirty_share=0.03),
    }
    (tmp_path / "header-only.csv").write_bytes(
        b"customer_id,signup_date,age,city,plan,tenure_months,monthly_charges,total_charges,support_calls,churned\n")
    (tmp_path / "notes.txt").write_bytes(b"not a data file\n")
    invalid = {"header-only.csv": "no data rows", "notes.txt": "Unsupported file extension '.txt'"}

    trace, runs, prefix, records = _fly_map(stepbricks, deployed_pipeline,
                                            [tmp_path / n for n in [*reports, *invalid]])  # fmt: skip

    assert trace.status == "SUCCEEDED", (trace.error, trace.cause)
    written = trace.output["files"]
    assert written["ResultWriterDetails"]["Bucket"] == deployed_pipeline.buckets["results"]
    assert written["ResultWriterDetails"]["Key"].startswith("map-runs/")
    assert written["ResultWriterDetails"]["Key"].endswith("/manifest.json")
    assert {r["Status"] for r in records} == {"SUCCEEDED"}, "one succeeded child per file, read from ResultWriter"
    items = {r["Output"]["key"].removeprefix(prefix): r["Output"] for r in records}
    assert set(items) == {*reports, *invalid}
    for name, report in reports.items():
        item = items[name]
        assert item["skipped"] is False and item["rowCount"] == report.rows, item
        etl = item["etl"]
        assert (etl["rows_in"], etl["rows_written"], etl["rows_quarantined"]) == (
            report.rows, report.clean_rows, report.rows - report.clean_rows), (name, etl)
        assert etl["quarantine_reasons"] == report.expected_quarantine_reasons(), name
    for name, words in invalid.items():
        item = items[name]
        assert item["skipped"] is True and item["validation"]["isValid"] is False, item
        assert words in item["validation"]["error"], item["validation"]
    etl_runs = [r for r in runs if r["job_id"] == deployed_pipeline.jobs["etl"]]
    sources = sorted(p["value"] for r in etl_runs for p in r["job_parameters"] if p["name"] == "source_uri")
    raw = deployed_pipeline.buckets["raw"]
    assert sources == sorted(f"s3://{raw}/{prefix}{name}" for name in reports), "one ETL run per valid file"
    assert all(r["state"]["result_state"] == "SUCCESS" for r in runs)

    result = RunResult(variant="map", input_uri=f"s3://{raw}/{prefix}", execution_arn=trace.execution_arn,
                       trace=trace, databricks_runs=runs, map_results=records)  # fmt: skip
    assert result.step_output("etl")["rows_in"] in {r.rows for r in reports.values()}, "read from the result files"
    html = report_for_result(stepbricks.env, result, tmp_path / "map-report.html").read_text()
    table = html.split('id="map-results"', 1)[1].split("</table>", 1)[0]
    assert table.count("<td>SUCCEEDED</td>") == len(reports) + len(invalid)
    assert all(name in table for name in [*reports, *invalid]), "every file's child in the report"


def _runs_with_parameter(stepbricks, job_id: int, name: str, value: str) -> list[int]:
    """Every run of the job (all pages) whose job parameter `name` is `value`."""
    w = stepbricks.workspace()
    return [r.run_id for r in w.jobs.list_runs(job_id=job_id)
            if any(p.name == name and p.value == value for p in r.job_parameters or [])]


@pytest.mark.timeout(2 * FLIGHT_SECONDS + 120)
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
    # What ties a run to this file: the ETL's source_uri, then train's and evaluate's processed_uri (the
    # ETL's output). Exactly one run of each job carries it, and it is the run the execution followed.
    jobs = deployed_pipeline.jobs
    found = {
        "etl": _runs_with_parameter(stepbricks, jobs["etl"], "source_uri", first.input_uri),
        "train": _runs_with_parameter(stepbricks, jobs["train"], "processed_uri", etl["output_uri"]),
        "evaluate": _runs_with_parameter(stepbricks, jobs["evaluate"], "processed_uri", etl["output_uri"]),
    }
    followed = {step: [r["run_id"] for r in first.databricks_runs if r["job_id"] == jobs[step]] for step in jobs}
    assert found == followed, "a job ran more than once for this file, or a run was missed"
    assert all(len(ids) == 1 for ids in found.values()), found
    assert sorted(r["run_id"] for r in second.databricks_runs) == sorted(r["run_id"] for r in first.databricks_runs)
