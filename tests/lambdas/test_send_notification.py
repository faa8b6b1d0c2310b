"""send_notification against moto SNS, read back through an SQS subscription as a subscriber sees it."""

from __future__ import annotations

import json

import boto3
import pytest

from lambdas._errors import ConfigurationError
from lambdas.send_notification import MAX_MESSAGE_BYTES, lambda_handler, subject_for


@pytest.fixture
def topic(aws, monkeypatch):
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    arn = sns.create_topic(Name="pipeline-notifications")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("TOPIC_ARN", arn)

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return received


def test_notification_is_published_with_a_subject_and_a_json_message(topic):
    result = lambda_handler({"status": "Pipeline Succeeded", "details": {"rows": 5, "key": "incoming/a.csv"}})
    (envelope,) = topic()
    assert result == {"messageId": envelope["MessageId"], "status": "Pipeline Succeeded"}
    assert envelope["Subject"] == "stepbricks: Pipeline Succeeded"
    assert json.loads(envelope["Message"]) == {
        "status": "Pipeline Succeeded",
        "details": {"rows": 5, "key": "incoming/a.csv"},
    }


def test_a_long_status_is_truncated_to_the_sns_subject_limit(topic):
    status = "Pipeline Failed: " + "x" * 300
    lambda_handler({"status": status, "details": {}})
    (envelope,) = topic()
    assert len(envelope["Subject"]) == 99  # Publish: "less than 100 characters long"
    assert envelope["Subject"].endswith("...")
    assert json.loads(envelope["Message"])["status"] == status  # the message keeps it whole


def test_line_breaks_and_control_characters_never_reach_the_subject():
    assert subject_for("Failed\nat\tstep\x00two") == "stepbricks: Failed at step two"


def test_details_too_large_for_sns_are_cut_short_saying_so(topic):
    lambda_handler({"status": "Pipeline Failed", "details": {"log": "y" * (MAX_MESSAGE_BYTES + 10)}})
    (envelope,) = topic()
    message = json.loads(envelope["Message"])
    assert message["details_truncated"] is True
    assert len(envelope["Message"].encode()) <= MAX_MESSAGE_BYTES


def test_a_missing_topic_arn_is_a_configuration_error(aws, monkeypatch):
    monkeypatch.delenv("TOPIC_ARN", raising=False)
    with pytest.raises(ConfigurationError, match="TOPIC_ARN"):
        lambda_handler({"status": "x", "details": {}})
