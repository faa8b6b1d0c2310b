"""`harness.follow`: the trace of an execution read from its history."""

from __future__ import annotations

from harness.follow import trace_from_history


def _event(kind: str, **details: object) -> dict:
    return {"type": kind, "timestamp": 0, **details}


def test_a_redriven_execution_runs_again_after_its_old_end_event_until_a_new_one():
    """AWS keeps ExecutionFailed in the history and appends ExecutionRedriven (API reference,
    RedriveExecution): the failure before the redrive is not the execution's status."""
    failed = _event("ExecutionFailed", executionFailedEventDetails={"error": "S3.S3Exception", "cause": "404"})
    events = [_event("ExecutionStarted"), failed, _event("ExecutionRedriven")]
    trace = trace_from_history("arn", events)
    assert (trace.status, trace.error, trace.cause) == ("RUNNING", None, None)
    done = trace_from_history("arn", [*events, _event("ExecutionSucceeded",
                                                      executionSucceededEventDetails={"output": "{}"})])
    assert done.status == "SUCCEEDED"
