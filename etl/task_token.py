"""Report a Databricks job's outcome to a Step Functions `.waitForTaskToken` state.

In the callback variant the state machine starts the job with its task token as a parameter and
waits; the job's last cell answers with `SendTaskSuccess` (its summary as the state's output) or
`SendTaskFailure` (error and cause the state's Retry/Catch can match). An empty token means the job
was started by the polling variant: every helper is then a no-op, so one notebook serves both.
The ml notebooks use the same helpers.

Limits are botocore's (stepfunctions service-2.json): error <= 256 characters, cause <= 32768,
output <= 262144. Longer values are truncated rather than failing the report itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["TaskReport", "report_to_step_functions", "send_failure", "send_success"]

MAX_ERROR = 256
MAX_CAUSE = 32_768
MAX_OUTPUT = 262_144


def _client(client: object | None):  # a boto3 client; boto3 honours AWS_ENDPOINT_URL itself
    if client is not None:
        return client
    import boto3

    return boto3.client("stepfunctions")


def send_success(token: str | None, output: dict, *, client: object | None = None) -> bool:
    """SendTaskSuccess with `output` as JSON; returns whether a report was sent (False for no token)."""
    if not token:
        return False
    body = json.dumps(output, default=str)
    if len(body) > MAX_OUTPUT:
        raise ValueError(
            f"task output is {len(body)} characters; Step Functions accepts at most {MAX_OUTPUT}"
        )
    _client(client).send_task_success(taskToken=token, output=body)
    return True


def send_failure(token: str | None, error: str, cause: str, *, client: object | None = None) -> bool:
    """SendTaskFailure; returns whether a report was sent (False for no token)."""
    if not token:
        return False
    _client(client).send_task_failure(taskToken=token, error=error[:MAX_ERROR], cause=cause[:MAX_CAUSE])
    return True


@dataclass
class TaskReport:
    """What the `with` block hands back: set `output` to report success with it."""

    token: str
    output: dict | None = None
    sent: bool = field(default=False, init=False)

    def succeed(self, output: dict) -> None:
        self.output = output


@contextmanager
def report_to_step_functions(token: str | None, *, client: object | None = None) -> Iterator[TaskReport]:
    """Send success with `report.output` when the block ends normally, failure when it raises.

    The exception is re-raised after the failure is sent, so the Databricks run fails too. The error
    name is the exception's class name (what a Catch's ErrorEquals matches); the cause is its message.
    `BaseException`s that are not errors (a notebook exit, KeyboardInterrupt) are not reported.
    """
    report = TaskReport(token=token or "")
    try:
        yield report
    except Exception as exc:
        report.sent = send_failure(token, type(exc).__name__, str(exc) or type(exc).__name__, client=client)
        raise
    if report.output is None:  # a waiting state would hang until its timeout: say so now instead
        report.sent = send_failure(
            token, "MissingTaskOutput", "the job ended without calling succeed()", client=client
        )
    else:
        report.sent = send_success(token, report.output, client=client)
