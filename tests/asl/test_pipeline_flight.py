"""The shipped state machines flown on the simulator's Step Functions interpreter with real Lambdas.

validate_file and send_notification are the real functions (the `lambdas` zip, as deployed); the two
Databricks functions are replaced by a stub with the same input/output contract, so these tests check
the definitions' data flow (Parameters, ResultPath, ResultSelector, Choice rules, Map, task tokens)
rather than Databricks. Outcomes are chosen by job id: see OUTPUTS and FAILING in the stub.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import asl

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STUB = """
import hashlib, json, os, pathlib
import boto3

OUTPUTS = {
    1: {"output_uri": "s3://stepbricks-processed/processed/batch_id=b1", "rows_written": 5},
    2: {"model_version": 3},
    3: {"gate": {"metric": "roc_auc", "value": 0.81, "passed": True}},
    4: {"gate": {"metric": "roc_auc", "value": 0.55, "passed": False}},
}
FAILING = {5}
SCALE = 10 ** 10


def _dir():
    return pathlib.Path(os.environ["STUB_DIR"])


def start(event, context):
    job = int(event["job_id"])
    digest = int(hashlib.sha256(f"{event['execution_id']}/{event['step']}".encode()).hexdigest()[:8], 16)
    run_id = job * SCALE + digest
    (_dir() / f"start-{run_id}.json").write_text(json.dumps(event))
    token = event.get("job_parameters", {}).get("task_token")
    if token:  # what the notebook's last cell does in the callback variant
        sfn = boto3.client("stepfunctions")
        if job in FAILING:
            sfn.send_task_failure(taskToken=token, error="EtlFailed", cause="bad rows")
        else:
            sfn.send_task_success(taskToken=token, output=json.dumps(OUTPUTS[job]))
    return {"run_id": run_id, "job_id": job, "number_in_job": 1, "run_page_url": f"http://ws/#job/{job}/run/{run_id}"}


def check(event, context):
    run_id = int(event["run_id"])
    job = run_id // SCALE
    seen = _dir() / f"check-{run_id}"
    base = {"run_id": run_id, "state_message": "", "output": None}
    if not seen.exists():
        seen.write_text("1")
        return {**base, "life_cycle_state": "RUNNING", "result_state": None, "is_complete": False, "is_successful": False}
    if job in FAILING:
        return {**base, "life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "Workload failed",
                "is_complete": True, "is_successful": False}
    return {**base, "life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "is_complete": True,
            "is_successful": True, "output": OUTPUTS[job]}
"""


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((ROOT / "lambdas").rglob("*.py")):
            archive.write(path, path.relative_to(ROOT).as_posix())
        archive.writestr("stub_databricks.py", STUB)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def flight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from sim.aws import AwsSimulator

    stub_dir = tmp_path_factory.mktemp("stub")
    with AwsSimulator.start(state_dir=tmp_path_factory.mktemp("aws")) as aws:
        role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        topic = aws.client("sns").create_topic(Name="pipeline-notifications")["TopicArn"]
        aws.client("s3").create_bucket(Bucket="stepbricks-raw")
        aws.client("s3").create_bucket(Bucket="stepbricks-results")
        env = {"TOPIC_ARN": topic, "STUB_DIR": str(stub_dir)}
        code = _zip()
        arns = {}
        for key, handler in [
            ("validate-file", "lambdas.validate_file.lambda_handler"),
            ("send-notification", "lambdas.send_notification.lambda_handler"),
            ("list-files", "lambdas.list_files.lambda_handler"),
            ("start-databricks-job", "stub_databricks.start"),
            ("check-databricks-job", "stub_databricks.check"),
        ]:
            arns[key] = aws.client("lambda").create_function(
                FunctionName=key,
                Runtime="python3.11",
                Role=role,
                Handler=handler,
                Code={"ZipFile": code},
                Timeout=30,
                Environment={"Variables": env},
            )["FunctionArn"]
        values = {
            "AccountId": "123456789012", "Region": "us-east-1", "Prefix": "", "PollSeconds": "1",
            "ValidateFileFunctionArn": arns["validate-file"],
            "StartDatabricksJobFunctionArn": arns["start-databricks-job"],
            "CheckDatabricksJobFunctionArn": arns["check-databricks-job"],
            "SendNotificationFunctionArn": arns["send-notification"],
            "ListFilesFunctionArn": arns["list-files"],
            "EtlJobId": "1", "TrainJobId": "2", "EvaluateJobId": "3",
            "ProcessedBucket": "stepbricks-processed", "ModelsBucket": "stepbricks-models",
            "ResultsBucket": "stepbricks-results", "ModelName": "churn", "MinRocAuc": "0.7",
        }  # fmt: skip
        yield {"aws": aws, "role": role, "topic": topic, "values": values, "stub_dir": stub_dir}


def _fly(flight: dict[str, Any], name: str, execution_input: dict, **overrides: str) -> tuple[dict, dict]:
    """Create the state machine with `overrides`, run one execution to its end; (description, output)."""
    aws = flight["aws"]
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"{name}-{len(sfn.list_state_machines()['stateMachines'])}",
        definition=asl.render(name, flight["values"] | overrides),
        roleArn=flight["role"],
    )["stateMachineArn"]
    execution = aws.start_execution(machine, execution_input)
    pause = threading.Event()
    for _ in range(1200):
        description = sfn.describe_execution(executionArn=execution)
        if description["status"] != "RUNNING":
            return description, json.loads(description.get("output") or "null")
        pause.wait(0.1)
    raise AssertionError(f"{execution} still running after 120 s")


def _upload(flight: dict[str, Any], key: str, body: str) -> dict[str, str]:
    flight["aws"].client("s3").put_object(Bucket="stepbricks-raw", Key=key, Body=body.encode())
    return {"bucket": "stepbricks-raw", "key": key}


def _notifications(flight: dict[str, Any], execution_arn: str) -> list[dict]:
    found = []
    for message in flight["aws"].sns_messages(flight["topic"]):
        body = json.loads(message["message"])
        if execution_arn in json.dumps(body):
            found.append({"subject": message["subject"], **body})
    return found


def _starts(flight: dict[str, Any], execution_arn: str) -> dict[str, dict]:
    """The start_databricks_job events of one execution, by step."""
    events = [json.loads(p.read_text()) for p in flight["stub_dir"].glob("start-*.json")]
    return {e["step"]: e for e in events if e["execution_id"] == execution_arn}


CSV = "customer_id,age\nC1,30\nC2,41\n"


def _map_results(flight: dict[str, Any], written: dict[str, Any]) -> list[Any]:
    """The outputs of a Distributed Map's children, read from the files its ResultWriter lists."""
    s3 = flight["aws"].client("s3")
    details = written["ResultWriterDetails"]
    manifest = json.loads(s3.get_object(Bucket=details["Bucket"], Key=details["Key"])["Body"].read())
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    records = [r for f in manifest["ResultFiles"]["SUCCEEDED"]
               for r in json.loads(s3.get_object(Bucket=details["Bucket"], Key=f["Key"])["Body"].read())]
    return [json.loads(r["Output"]) for r in records]


def test_polling_pipeline_succeeds_and_chains_each_job_output_into_the_next(flight):
    description, output = _fly(flight, "pipeline", _upload(flight, "incoming/ok.csv", CSV))
    assert description["status"] == "SUCCEEDED"
    assert output["validation"]["rowCount"] == 2
    assert output["etl"]["output"]["output_uri"] == "s3://stepbricks-processed/processed/batch_id=b1"
    assert output["evaluate"]["output"]["gate"]["passed"] is True
    starts = _starts(flight, description["executionArn"])
    assert starts["etl"]["job_parameters"]["source_uri"] == "s3://stepbricks-raw/incoming/ok.csv"
    assert starts["etl"]["execution_id"] == description["executionArn"]
    assert (
        starts["train"]["job_parameters"]["processed_uri"]
        == "s3://stepbricks-processed/processed/batch_id=b1"
    )
    assert starts["evaluate"]["job_parameters"]["model_version"] == 3
    assert starts["evaluate"]["job_parameters"]["min_roc_auc"] == "0.7"
    (note,) = _notifications(flight, description["executionArn"])
    assert note["status"] == "Pipeline Succeeded"
    assert note["details"]["evaluate"]["gate"]["value"] == 0.81


def test_an_empty_file_is_notified_and_the_execution_fails_as_input_rejected(flight):
    description, _ = _fly(flight, "pipeline", _upload(flight, "incoming/empty.csv", ""))
    assert (description["status"], description.get("error")) == ("FAILED", "InputRejected")
    (note,) = _notifications(flight, description["executionArn"])
    assert note["status"] == "File Validation Failed"
    assert "File is empty" in note["details"]["validation"]["error"]


def test_a_failed_etl_run_notifies_failure_and_fails_the_execution(flight):
    description, _ = _fly(flight, "pipeline", _upload(flight, "incoming/etl-fails.csv", CSV), EtlJobId="5")
    assert (description["status"], description.get("error")) == ("FAILED", "PipelineFailed")
    (note,) = _notifications(flight, description["executionArn"])
    assert note["status"] == "Pipeline Failed"
    assert note["details"]["state"]["etl"]["result_state"] == "FAILED"


def test_a_model_below_the_quality_gate_notifies_failure(flight):
    description, _ = _fly(flight, "pipeline", _upload(flight, "incoming/weak.csv", CSV), EvaluateJobId="4")
    assert (description["status"], description.get("error")) == ("FAILED", "PipelineFailed")
    (note,) = _notifications(flight, description["executionArn"])
    assert note["details"]["state"]["evaluate"]["output"]["gate"]["passed"] is False


def test_callback_pipeline_receives_each_job_summary_through_its_task_token(flight):
    description, output = _fly(flight, "pipeline_callback", _upload(flight, "incoming/cb.csv", CSV))
    assert description["status"] == "SUCCEEDED", description
    assert output["train"]["output"] == {"model_version": 3}
    assert output["evaluate"]["output"]["gate"]["passed"] is True


def test_callback_pipeline_catches_a_send_task_failure(flight):
    description, _ = _fly(
        flight, "pipeline_callback", _upload(flight, "incoming/cb-fails.csv", CSV), EtlJobId="5"
    )
    assert (description["status"], description.get("error")) == ("FAILED", "PipelineFailed")
    (note,) = _notifications(flight, description["executionArn"])
    assert note["details"]["state"]["error"]["Error"] == "EtlFailed"


def test_map_pipeline_processes_each_valid_file_and_skips_invalid_ones(flight):
    _upload(flight, "batch/a.csv", CSV)
    _upload(flight, "batch/b.jsonl", '{"customer_id": "C3"}\n')
    _upload(flight, "batch/notes.txt", "not data")
    description, output = _fly(flight, "pipeline_map", {"bucket": "stepbricks-raw", "prefix": "batch/"})
    assert description["status"] == "SUCCEEDED", description
    by_key = {f["key"]: f for f in _map_results(flight, output["files"])}
    assert set(by_key) == {"batch/a.csv", "batch/b.jsonl", "batch/notes.txt"}, "listObjectsV2 found every file"
    assert by_key["batch/notes.txt"]["skipped"] is True
    assert by_key["batch/a.csv"]["etl"]["output_uri"].startswith("s3://stepbricks-processed/")
    assert by_key["batch/b.jsonl"]["rowCount"] == 1
    steps = _starts(flight, description["executionArn"])
    assert steps["etl:batch/a.csv"]["job_parameters"]["source_uri"] == "s3://stepbricks-raw/batch/a.csv"
