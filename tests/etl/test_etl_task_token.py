"""Task-token reports reach a real `.waitForTaskToken` state on moto's Step Functions (token via SQS)."""

from __future__ import annotations

import json
import time

import boto3
import pytest
import requests

from etl.task_token import report_to_step_functions, send_failure, send_success

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"


def definition(queue_url: str) -> str:
    return json.dumps({
        "StartAt": "RunJob",
        "States": {
            "RunJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    })  # fmt: skip


@pytest.fixture
def sfn_endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto with its ASL interpreter on (off by default: executions would then never run).

    The interpreter's service integrations call back into moto at localhost:$MOTO_PORT
    (moto/stepfunctions/parser/asl/utils/boto_client.py), so point that at this server.
    """
    monkeypatch.setenv("MOTO_PORT", moto_endpoint.rsplit(":", 1)[1])
    config = {"stepfunctions": {"execute_state_machine": True}}
    requests.post(f"{moto_endpoint}/moto-api/config", json=config, timeout=10).raise_for_status()
    return moto_endpoint


@pytest.fixture
def waiting_task(sfn_endpoint, monkeypatch):
    """Start an execution that waits for its token; yields (sfn client, execution arn, token)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", sfn_endpoint)
    sqs, sfn = boto3.client("sqs"), boto3.client("stepfunctions")
    queue_url = sqs.create_queue(QueueName=f"tokens-{time.monotonic_ns()}")["QueueUrl"]
    machine = sfn.create_state_machine(
        name=f"etl-callback-{time.monotonic_ns()}", definition=definition(queue_url), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20).get("Messages", [])
    assert messages, "the waitForTaskToken state never sent its token"
    return sfn, execution, json.loads(messages[0]["Body"])["token"]


def final_status(sfn, execution: str) -> dict:
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution is still waiting for its token"
        time.sleep(0.1)
    return described


def test_send_success_completes_the_waiting_state_with_the_summary_as_output(waiting_task):
    sfn, execution, token = waiting_task
    assert send_success(token, {"status": "SUCCEEDED", "rows_in": 3})
    described = final_status(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"status": "SUCCEEDED", "rows_in": 3}


def test_an_error_in_the_block_sends_task_failure_and_is_re_raised(waiting_task):
    sfn, execution, token = waiting_task
    with pytest.raises(ZeroDivisionError), report_to_step_functions(token):
        1 / 0  # noqa: B018
    described = final_status(sfn, execution)
    assert described["status"] == "FAILED"
    # The error is what a Catch matches. moto 5.2.5 drops the cause on the way (its SendTaskFailure
    # response handler does not pass it on), so it is not asserted here; real Step Functions keeps it.
    assert described["error"] == "ZeroDivisionError"


def test_the_block_reports_its_output_on_success(waiting_task):
    sfn, execution, token = waiting_task
    with report_to_step_functions(token) as report:
        report.succeed({"rows_written": 7})
    assert report.sent
    assert json.loads(final_status(sfn, execution)["output"]) == {"rows_written": 7}


def test_an_empty_token_sends_nothing(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: a call would fail
    assert not send_success("", {"a": 1})
    assert not send_failure(None, "Error", "cause")
    with report_to_step_functions("") as report:
        report.succeed({"a": 1})
    assert not report.sent


def test_an_unknown_token_is_rejected_by_step_functions(sfn_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", sfn_endpoint)
    client = boto3.client("stepfunctions")
    with pytest.raises(client.exceptions.InvalidToken):
        send_success("not-a-token", {}, client=client)
