"""Follows a Step Functions execution through its history: what the progress view and summary show."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class StateVisit:
    name: str
    type: str
    entered: datetime
    exited: datetime | None = None
    attempts: int = 0  # task scheduled count (1 + retries)
    error: str | None = None
    cause: str | None = None
    output: Any = None
    result: Any = None  # the Task's own result (a Lambda's payload), before ResultPath merges it

    @property
    def seconds(self) -> float | None:
        return (self.exited - self.entered).total_seconds() if self.exited else None


@dataclass
class ExecutionTrace:
    execution_arn: str
    status: str = "RUNNING"
    visits: list[StateVisit] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    output: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def retries(self) -> int:
        return sum(max(0, v.attempts - 1) for v in self.visits)


NEW_EVENTS_PAGE = 25  # a poll usually finds a few new events: one small page, newest first


def poll_history(sfn: Any, execution_arn: str, known: list[dict] | None = None) -> list[dict]:
    """The execution's whole history. Given the events read before (`known`, oldest first), only the newer
    ones are requested, newest first, page by page until one already known: a history only grows, so the
    rest is what was read, and a poll costs the new events instead of all of them."""
    paginator = sfn.get_paginator("get_execution_history")
    if not known:
        return [event for page in paginator.paginate(executionArn=execution_arn) for event in page["events"]]
    last = known[-1]["id"]
    newer: list[dict] = []
    pages = paginator.paginate(executionArn=execution_arn, reverseOrder=True,
                               PaginationConfig={"PageSize": NEW_EVENTS_PAGE})
    for page in pages:
        fresh = [event for event in page["events"] if event["id"] > last]
        newer.extend(fresh)
        if len(fresh) < len(page["events"]):
            break
    return known + newer[::-1]


def trace_from_history(execution_arn: str, events: list[dict]) -> ExecutionTrace:
    """Fold a history into state visits: entered/exited times, attempts, errors, outputs."""
    trace = ExecutionTrace(execution_arn=execution_arn, events=events)
    current: StateVisit | None = None
    for ev in events:
        kind = ev["type"]
        if kind.endswith("StateEntered"):
            d = ev["stateEnteredEventDetails"]
            current = StateVisit(name=d["name"], type=kind.removesuffix("StateEntered"), entered=ev["timestamp"])
            trace.visits.append(current)
        elif kind.endswith("StateExited") and current is not None:
            d = ev["stateExitedEventDetails"]
            current.exited = ev["timestamp"]
            current.output = _json(d.get("output"))
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled") and current is not None:
            current.attempts += 1
        elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded") and current is not None:
            current.error = current.cause = None  # a retry recovered: the visit's result is the success
            details = next((v for k, v in ev.items() if k.endswith("EventDetails")), {})
            current.result = _task_result(_json(details.get("output")))
        elif kind in ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "LambdaFunctionTimedOut") and current:
            details = next((v for k, v in ev.items() if k.endswith("EventDetails")), {})
            current.error, current.cause = details.get("error"), details.get("cause")
        elif kind == "ExecutionSucceeded":
            trace.status = "SUCCEEDED"
            trace.output = _json(ev["executionSucceededEventDetails"].get("output"))
        elif kind == "ExecutionRedriven":  # AWS keeps the old end event: the execution runs again after it
            trace.status, trace.error, trace.cause = "RUNNING", None, None
        elif kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            trace.status = {"ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT"}.get(kind, "ABORTED")
            details = next((v for k, v in ev.items() if k.endswith("EventDetails")), {})
            trace.error, trace.cause = details.get("error"), details.get("cause")
    return trace


def _task_result(output: Any) -> Any:
    """`lambda:invoke` wraps the function's payload in {"Payload", "StatusCode", ...}: the payload is the result."""
    if isinstance(output, dict) and "Payload" in output and "StatusCode" in output:
        return output["Payload"]
    return output


def follow(
    sfn: Any,
    execution_arn: str,
    *,
    sleep: Callable[[float], None],
    on_update: Callable[[ExecutionTrace], None] = lambda _t: None,
    timeout: float = 1800.0,
    interval: float = 0.5,
) -> ExecutionTrace:
    """Poll the history until the execution ends (or `timeout` seconds of polling pass)."""
    waited = 0.0
    seen = -1
    events: list[dict] = []
    while True:
        events = poll_history(sfn, execution_arn, events)
        trace = trace_from_history(execution_arn, events)
        if len(events) != seen:
            seen = len(events)
            on_update(trace)
        if trace.status in TERMINAL:
            return trace
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        if status in TERMINAL:
            trace = trace_from_history(execution_arn, poll_history(sfn, execution_arn, events))
            trace.status = status
            on_update(trace)
            return trace
        if waited >= timeout:
            raise TimeoutError(f"execution {execution_arn} still {status} after {timeout:.0f} s")
        sleep(interval)
        waited += interval


def iter_json_outputs(trace: ExecutionTrace) -> Iterator[tuple[str, Any]]:
    for visit in trace.visits:
        if visit.output is not None:
            yield visit.name, visit.output


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
