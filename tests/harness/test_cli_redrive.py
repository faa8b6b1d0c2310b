"""`stepbricks redrive EXECUTION` against a running simulator's Step Functions: fix, redrive, succeed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from sim.aws import AwsSimulator

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsSimulator]:
    with AwsSimulator.start(state_dir=tmp_path_factory.mktemp("aws")) as simulator:
        yield simulator


@pytest.fixture
def target(aws: AwsSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AwsSimulator:
    """The CLI's endpoints are the simulator's (no `stepbricks up` endpoints file in this home)."""
    monkeypatch.setenv("STEPBRICKS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("harness.cli._saved_env", lambda: dict(aws.env))
    return aws


def _failed_execution(aws: AwsSimulator, bucket: str) -> str:
    s3, sfn = aws.client("s3"), aws.client("stepfunctions")
    s3.create_bucket(Bucket=bucket)
    definition = {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": "ready", "ResultPath": "$.prepared", "Next": "Read"},
        "Read": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
                 "Parameters": {"Bucket": bucket, "Key": "fixed.txt"}, "ResultSelector": {"size.$": "$.ContentLength"},
                 "End": True}}}  # fmt: skip
    machine = sfn.create_state_machine(name=f"cli-{bucket}", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]  # fmt: skip
    execution = aws.start_execution(machine, {})
    for _ in range(600):
        if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
            return execution
        threading.Event().wait(0.05)
    raise AssertionError("the execution did not fail")


def test_redrive_resumes_a_fixed_execution_and_exits_0_with_a_report(target, tmp_path) -> None:
    execution = _failed_execution(target, "cli-redrive-fixed")
    target.client("s3").put_object(Bucket="cli-redrive-fixed", Key="fixed.txt", Body=b"12345")

    result = CliRunner().invoke(app, ["redrive", execution, "--out", str(tmp_path / "report.html")])

    assert result.exit_code == 0, result.output
    assert "redrive 1" in result.output and "SUCCEEDED" in result.output
    events = target.client("stepfunctions").get_execution_history(executionArn=execution)["events"]
    assert [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e] == [
        "Prepare", "Read", "Read"]
    assert (tmp_path / "report.html").exists()


def test_redrive_of_a_succeeded_execution_exits_2_with_the_reason(target, tmp_path) -> None:
    execution = _failed_execution(target, "cli-redrive-twice")
    target.client("s3").put_object(Bucket="cli-redrive-twice", Key="fixed.txt", Body=b"x")
    assert CliRunner().invoke(app, ["redrive", execution, "--out", str(tmp_path / "a.html")]).exit_code == 0

    again = CliRunner().invoke(app, ["redrive", execution])
    assert again.exit_code == 2
    assert "ExecutionNotRedrivable: Execution is SUCCEEDED and cannot be redriven" in " ".join(again.output.split())


def test_a_redrive_that_fails_again_exits_1(target, tmp_path) -> None:
    execution = _failed_execution(target, "cli-redrive-unfixed")
    result = CliRunner().invoke(app, ["redrive", execution, "--out", str(tmp_path / "b.html")])
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output


def test_redriving_a_failed_distributed_map_reruns_only_its_failed_file_and_reports_each_result(target, tmp_path):
    """The Map variant's fix-and-resume loop: one file's child fails, the cause is fixed, the redrive runs that
    child only, and the report lists every child's result from the ResultWriter files with its redrive count."""
    s3, sfn = target.client("s3"), target.client("stepfunctions")
    s3.create_bucket(Bucket="cli-map-redrive")
    for name in ("a.csv", "b.csv", "c.csv"):
        s3.put_object(Bucket="cli-map-redrive", Key=f"landing/{name}", Body=b"x")
    child = {"StartAt": "Fixed", "States": {
        "Fixed": {"Type": "Choice", "Choices": [{"Variable": "$.key", "StringEquals": "landing/b.csv",
                                                 "Next": "NeedsFix"}], "Default": "Done"},
        "NeedsFix": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
                     "Parameters": {"Bucket": "cli-map-redrive", "Key": "fix.txt"}, "ResultPath": None, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"file.$": "$.key"}, "End": True}}}  # fmt: skip
    definition = {"StartAt": "Files", "States": {"Files": {
        "Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                         **child},
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                       "Parameters": {"Bucket": "cli-map-redrive", "Prefix": "landing/"}},
        "ItemSelector": {"key.$": "$$.Map.Item.Value.Key"},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "cli-map-redrive", "Prefix": "results"}}, "End": True}}}  # fmt: skip
    machine = sfn.create_state_machine(name="cli-map-redrive", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]  # fmt: skip
    execution = target.start_execution(machine, {})
    for _ in range(600):
        if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
            break
        threading.Event().wait(0.05)
    assert sfn.describe_execution(executionArn=execution)["status"] == "FAILED"
    s3.put_object(Bucket="cli-map-redrive", Key="fix.txt", Body=b"fixed")

    result = CliRunner().invoke(app, ["redrive", execution, "--out", str(tmp_path / "report.html")])

    assert result.exit_code == 0, result.output
    [map_run] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert (counts["redriveCount"], counts["itemCounts"]["succeeded"], counts["itemCounts"]["total"]) == (1, 3, 3)
    table = (tmp_path / "report.html").read_text().split('id="map-results"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 3 and all("<td>SUCCEEDED</td>" in row for row in rows)
    assert [row.rstrip().endswith("<td>1</td></tr>") for row in rows] == [False, True, False], (
        "only b.csv's child was redriven")
