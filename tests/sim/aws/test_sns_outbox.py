"""The SNS outbox: what was published, readable by tests and reports (AWS only delivers to subscribers)."""

from __future__ import annotations

from sim.aws import AwsSimulator


def test_published_messages_are_captured_per_topic_with_subject_attributes_and_time(aws: AwsSimulator):
    sns = aws.client("sns")
    notifications = sns.create_topic(Name="outbox-notifications")["TopicArn"]
    other = sns.create_topic(Name="outbox-other")["TopicArn"]
    published = sns.publish(
        TopicArn=notifications, Subject="Pipeline succeeded", Message='{"status": "SUCCEEDED"}',
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "info"}},
    )
    sns.publish(TopicArn=other, Message="unrelated")

    (message,) = aws.sns_messages(notifications)
    assert message["topic_arn"] == notifications
    assert message["message_id"] == published["MessageId"]
    assert message["subject"] == "Pipeline succeeded"
    assert message["message"] == '{"status": "SUCCEEDED"}'
    assert message["attributes"]["severity"]["Value"] == "info"
    assert message["timestamp"].endswith("Z")
    assert {m["topic_arn"] for m in aws.sns_messages()} >= {notifications, other}


def test_messages_published_from_a_lambda_reach_the_outbox(aws: AwsSimulator, lambda_client, make_function):
    topic = aws.client("sns").create_topic(Name="outbox-from-lambda")["TopicArn"]
    name = make_function("""
        import os
        import boto3

        def handler(event, context):
            boto3.client("sns").publish(TopicArn=os.environ["TOPIC"], Subject="done", Message=event["text"])
    """, env={"TOPIC": topic})
    lambda_client.invoke(FunctionName=name, Payload=b'{"text": "model promoted"}')
    assert [(m["subject"], m["message"]) for m in aws.sns_messages(topic)] == [("done", "model promoted")]
