"""Publish a pipeline notification to SNS (seed 003's notifier, within SNS's limits).

Input: {status, details}
Output: {messageId, status}

The subject obeys Publish's constraints (botocore sns service-2.json: "UTF-8 text with no line breaks
or control characters, and less than 100 characters long"); the message is JSON and stays under the
256 KiB SNS limit by cutting `details` short, saying so, rather than failing the notification.
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3

from lambdas import _config, _events

SUBJECT_PREFIX = "stepbricks: "
MAX_SUBJECT_CHARS = 99
MAX_MESSAGE_BYTES = 256 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def subject_for(status: str) -> str:
    subject = _CONTROL.sub(" ", f"{SUBJECT_PREFIX}{status}").strip()
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[: MAX_SUBJECT_CHARS - 3].rstrip() + "..."
    return subject


def message_for(status: str, details: Any) -> str:
    message = json.dumps({"status": status, "details": details}, indent=2, sort_keys=True, default=str)
    if len(message.encode()) <= MAX_MESSAGE_BYTES:
        return message
    excerpt = json.dumps(details, sort_keys=True, default=str)[: MAX_MESSAGE_BYTES // 2]
    return json.dumps({"status": status, "details_truncated": True, "details_excerpt": excerpt}, indent=2)


def lambda_handler(event: Any, context: Any = None) -> dict[str, Any]:
    event = _events.mapping(event)
    status = str(event.get("status") or "Unknown")
    details = event.get("details", {})
    response = boto3.client("sns").publish(
        TopicArn=_config.require("TOPIC_ARN"),
        Subject=subject_for(status),
        Message=message_for(status, details),
    )
    return {"messageId": response["MessageId"], "status": status}
