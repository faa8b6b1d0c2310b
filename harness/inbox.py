"""Reads what a pipeline published to SNS through an SQS subscription, on any backend (AWS included)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.clients import aws_client


@dataclass
class NotificationInbox:
    env: Mapping[str, str]
    queue_url: str
    subscription_arn: str
    received: list[dict] = field(default_factory=list)

    @classmethod
    def subscribe(cls, env: Mapping[str, str], topic_arn: str, *, name: str) -> NotificationInbox:
        sqs, sns = aws_client("sqs", env), aws_client("sns", env)
        queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                           "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}],
        }
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
        sub = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)
        return cls(env=env, queue_url=queue_url, subscription_arn=sub["SubscriptionArn"])

    def drain(self) -> list[dict]:
        sqs = aws_client("sqs", self.env)
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = batch.get("Messages", [])
            if not messages:
                return self.received
            for message in messages:
                envelope = json.loads(message["Body"])
                self.received.append(
                    {"subject": envelope.get("Subject"), "message": envelope.get("Message", ""),
                     "topic_arn": envelope.get("TopicArn"), "message_id": envelope.get("MessageId")}
                )
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def messages_for(self, text: str, *, wait: float = 5.0) -> list[dict[str, Any]]:
        """Messages whose body mentions `text` (an execution ARN), waiting briefly for SNS to deliver."""
        deadline = time.monotonic() + wait
        while True:
            found = [m for m in self.drain() if text in m["message"]]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.2)

    def close(self) -> None:
        try:
            aws_client("sns", self.env).unsubscribe(SubscriptionArn=self.subscription_arn)
            aws_client("sqs", self.env).delete_queue(QueueUrl=self.queue_url)
        except Exception:  # teardown of a test resource must not hide the test's own result
            pass
