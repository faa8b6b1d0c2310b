"""trigger_pipeline against moto Step Functions: one execution per uploaded object version, ever."""

from __future__ import annotations

import json
import re
import time

import boto3
import pytest

from lambdas.trigger_pipeline import execution_name, lambda_handler

DEFINITION = json.dumps({"StartAt": "Hold", "States": {"Hold": {"Type": "Pass", "End": True}}})


def _record(key: str, etag: str = "0123abcd", event: str = "ObjectCreated:Put", size: int = 42) -> dict:
    """An S3 event record as S3 sends it (keys URL-encoded, spaces as '+')."""
    return {
        "eventSource": "aws:s3",
        "eventName": event,
        "s3": {"bucket": {"name": "stepbricks-raw"}, "object": {"key": key, "size": size, "eTag": etag}},
    }


@pytest.fixture
def sfn(aws, monkeypatch):
    client = boto3.client("stepfunctions")
    arn = client.create_state_machine(
        name="pipeline", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    client.arn = arn
    return client


def _wait_until_ended(sfn, arn: str, deadline_s: float = 10.0) -> None:
    """moto's in-process interpreter reflects a stop from its worker thread, a moment after StopExecution
    returns (under load, after the redelivery): the redelivery must come after the execution has ended."""
    end = time.monotonic() + deadline_s
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < end, f"{arn} still RUNNING {deadline_s} s after StopExecution"
        time.sleep(0.01)


def _executions(sfn) -> list[dict]:
    return sfn.list_executions(stateMachineArn=sfn.arn)["executions"]


def test_each_created_object_starts_an_execution_with_its_decoded_key(sfn):
    result = lambda_handler(
        {"Records": [_record("incoming/my+file%281%29.csv"), _record("incoming/b.json", "ff")]}
    )
    assert [e["key"] for e in result["executions"]] == ["incoming/my file(1).csv", "incoming/b.json"]
    described = sfn.describe_execution(executionArn=result["executions"][0]["executionArn"])
    assert json.loads(described["input"]) == {
        "bucket": "stepbricks-raw",
        "key": "incoming/my file(1).csv",
        "etag": "0123abcd",
        "size": 42,
        "prefix": "incoming/",
    }
    assert len(_executions(sfn)) == 2


def test_a_duplicate_delivery_of_the_same_event_starts_no_second_execution(sfn):
    event = {"Records": [_record("incoming/a.csv")]}
    first = lambda_handler(event)["executions"][0]
    again = lambda_handler(event)["executions"][0]
    assert again["executionArn"] == first["executionArn"]
    assert len(_executions(sfn)) == 1


def test_a_redelivery_after_the_execution_ended_is_reported_as_already_started(sfn):
    event = {"Records": [_record("incoming/a.csv")]}
    first = lambda_handler(event)["executions"][0]
    sfn.stop_execution(executionArn=first["executionArn"])
    _wait_until_ended(sfn, first["executionArn"])
    again = lambda_handler(event)["executions"][0]
    assert again == {**first, "alreadyStarted": True}
    assert len(_executions(sfn)) == 1


def test_a_new_upload_of_the_same_key_starts_a_new_execution(sfn):
    lambda_handler({"Records": [_record("incoming/a.csv", etag="v1")]})
    lambda_handler({"Records": [_record("incoming/a.csv", etag="v2")]})
    assert len(_executions(sfn)) == 2


def test_events_other_than_object_created_are_ignored(sfn):
    result = lambda_handler({"Records": [_record("incoming/a.csv", event="ObjectRemoved:Delete")]})
    assert result == {"executions": [], "ignored": 1}
    assert _executions(sfn) == []


@pytest.mark.parametrize(
    "key", ["incoming/a.csv", "x" * 300 + ".csv", "incoming/ünïcode {weird} [name] *?.csv", "incoming/$$$"]
)
def test_execution_names_are_valid_deterministic_and_distinct(key):
    name = execution_name("stepbricks-raw", key, "etag")
    assert len(name) <= 80
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert name == execution_name("stepbricks-raw", key, "etag")
    assert name != execution_name("stepbricks-raw", key, "etag2")
    assert name != execution_name("other-bucket", key, "etag")
