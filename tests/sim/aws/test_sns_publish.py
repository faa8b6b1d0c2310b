"""SNS Publish as AWS answers it (sim/aws/moto_seams/sns.py; wordings recorded on AWS)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def sns(aws):
    return aws.client("sns")


def test_publish_to_a_missing_topic_is_not_found_topic_does_not_exist(sns):
    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:no-such-topic", Message="x")
    assert (raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]) == (
        "NotFound", "Topic does not exist")


def test_fifo_publish_without_group_id_is_an_invalid_parameter(sns):
    topic = sns.create_topic(Name="stepbricks-pub.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=topic, Message="x")
    assert (raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]) == (
        "InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")


def test_fifo_publish_answers_an_increasing_20_digit_sequence_number(sns):
    topic = sns.create_topic(Name="stepbricks-seq.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    first, second = (sns.publish(TopicArn=topic, Message=m, MessageGroupId="g", MessageDeduplicationId=m)["SequenceNumber"]
                     for m in ("a", "b"))
    assert len(first) == len(second) == 20 and int(second) > int(first)


def test_standard_topic_publish_has_no_sequence_number(sns):
    topic = sns.create_topic(Name="stepbricks-std")["TopicArn"]
    assert "SequenceNumber" not in sns.publish(TopicArn=topic, Message="x")
