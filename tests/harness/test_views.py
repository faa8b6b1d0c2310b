"""What the live table and the summary say about each state, read from the history as AWS records it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from rich.console import Console

from harness.follow import trace_from_history
from harness.views import failure_reason, result_summary, summary_panel, trace_table

T0 = datetime(2026, 12, 5, tzinfo=UTC)


def _history(*steps: tuple[str, str, dict]) -> list[dict]:
    """(state, event type, details) → events with ids and timestamps, as GetExecutionHistory returns them."""
    events, entered = [], {}
    for number, (state, kind, details) in enumerate(steps, start=1):
        event = {"id": number, "timestamp": T0 + timedelta(seconds=number), "type": kind}
        if kind.endswith("StateEntered"):
            entered[state] = number
            event["stateEnteredEventDetails"] = {"name": state, "input": "{}"}
        elif kind.endswith("StateExited"):
            event["stateExitedEventDetails"] = {"name": state, "output": json.dumps(details)}
        elif details:
            key = kind[0].lower() + kind[1:] + "EventDetails"
            event[key] = details
        events.append(event)
    return events


def _lambda_ok(state: str, payload: dict) -> list[tuple[str, str, dict]]:
    wrapped = json.dumps({"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200})
    return [(state, "TaskStateEntered", {}), (state, "TaskScheduled", {}), (state, "TaskStarted", {}),
            (state, "TaskSucceeded", {"resource": "invoke", "resourceType": "lambda", "output": wrapped}),
            (state, "TaskStateExited", {"wrapped": True})]


def _text(renderable) -> str:
    console = Console(record=True, width=200)
    console.print(renderable)
    return console.export_text()


def test_the_last_result_column_shows_each_tasks_own_result_not_the_merged_state_output():
    events = _history(
        *_lambda_ok("ValidateFile", {"isValid": True, "fileType": "csv", "rowCount": 5000}),
        *_lambda_ok("StartEtl", {"run_id": 5001, "job_id": 1001}),
        *_lambda_ok("CheckEtl", {"run_id": 5001, "life_cycle_state": "TERMINATED", "result_state": "SUCCESS",
                                 "is_complete": True, "is_successful": True,
                                 "output": {"rows_in": 5000, "rows_written": 4903, "rows_quarantined": 97}}),
        *_lambda_ok("NotifySuccess", {"messageId": "m-1", "status": "Pipeline Succeeded"}),
    )
    table = _text(trace_table(trace_from_history("arn:x:execution:sm:e1", events)))

    assert "valid csv, 5000 rows" in table
    assert "run 5001" in table
    assert "run 5001 TERMINATED SUCCESS, rows 5000 → 4903 + 97 quarantined" in table
    assert "notified (Pipeline Succeeded)" in table


def test_a_refused_file_says_why_in_the_summary_not_only_in_the_notification():
    refusal = "CSV header lacks the required columns ['customer_id'] (it has ['a', 'b', 'c'])"
    events = [
        *_history(*_lambda_ok("ValidateFile", {"isValid": False, "fileType": "csv", "error": refusal})),
    ]
    trace = trace_from_history("arn:x:execution:sm:e2", events)
    trace.status, trace.error = "FAILED", "InputRejected"

    assert failure_reason(trace) == f"ValidateFile refused the file: {refusal}"
    assert result_summary(None, trace.visits[0].result).startswith("[red]invalid[/red]: CSV header lacks")


def test_a_failed_databricks_run_and_a_failed_task_are_named_with_their_error():
    events = _history(*_lambda_ok("CheckEtl", {"run_id": 7, "life_cycle_state": "INTERNAL_ERROR",
                                               "result_state": "FAILED", "state_message": "worker lost",
                                               "is_complete": True, "is_successful": False}))
    assert failure_reason(trace_from_history("a", events)) == (
        "CheckEtl: Databricks run 7 ended INTERNAL_ERROR FAILED: worker lost")

    failed = _history(("StartTrain", "TaskStateEntered", {}), ("StartTrain", "TaskScheduled", {}),
                      ("StartTrain", "TaskFailed", {"error": "DatabricksUnavailable", "cause": "503 from the workspace"}))
    assert failure_reason(trace_from_history("a", failed)) == (
        "StartTrain failed with DatabricksUnavailable: 503 from the workspace")


def test_the_summary_panel_of_a_failed_flight_carries_the_reason():
    from types import SimpleNamespace

    events = _history(*_lambda_ok("ValidateFile", {"isValid": False, "error": "File is empty (0 bytes)"}))
    trace = trace_from_history("arn:x:execution:sm:e3", events)
    trace.status, trace.error, trace.cause = "FAILED", "InputRejected", "The input file failed validation."
    result = SimpleNamespace(trace=trace, succeeded=False, input_uri="s3://raw/incoming/empty.csv",
                             variant="polling", wall_seconds=1.0, databricks_runs=[], run_outputs={},
                             notifications=[], step_output=lambda key: None)

    assert "why: ValidateFile refused the file: File is empty (0 bytes)" in _text(summary_panel(result))
