"""`lambda` faults in the local Lambda runtime: shaped as Lambda reports them to boto3 and to Step
Functions (an uncaught error is `X-Amz-Function-Error: Unhandled` with errorType/errorMessage/stackTrace;
a timeout is `Sandbox.Timedout`), and their simulated durations on the virtual clock."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from sim import clock, faults

HEALTHY = """
def handler(event, context):
    return {"ran": True}
"""

FAILING = """
def handler(event, context):
    raise RuntimeError("real failure")
"""


@pytest.fixture
def plan():
    previous = faults.activate(faults.FaultPlan())
    yield faults.active()
    faults.activate(previous)


def _invoke(sim, name, **kwargs):
    response = sim.aws.client("lambda", retries={"max_attempts": 0}, read_timeout=60).invoke(
        FunctionName=name, **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def test_a_named_error_becomes_an_unhandled_function_error_with_that_error_type(sim, plan, make_function):
    name = make_function(HEALTHY)
    plan.add("lambda", name, attempts=1, error="Lambda.ServiceException")
    response, payload = _invoke(sim, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Lambda.ServiceException" and "stackTrace" in payload
    assert _invoke(sim, name)[1] == {"ran": True}  # attempt 2: the handler runs for real


def test_a_timeout_is_sandbox_timedout_after_the_functions_timeout_of_virtual_time(sim, plan, make_function):
    name = make_function(HEALTHY, timeout=300)
    plan.add("lambda", name, timeout=True)
    before, wall = clock.now(), time.monotonic()
    response, payload = _invoke(sim, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Task timed out after 300.00 seconds")
    assert clock.now() - before >= 300
    assert time.monotonic() - wall < 30


def test_a_delay_postpones_the_real_invocation_in_virtual_time(sim, plan, make_function):
    name = make_function(HEALTHY)
    plan.add("lambda", name, delay_seconds=120)
    before = clock.now()
    assert _invoke(sim, name)[1] == {"ran": True}
    assert clock.now() - before >= 120


def test_a_returned_payload_replaces_the_handler(sim, plan, make_function):
    name = make_function(FAILING)
    plan.add("lambda", name, **{"return": {"status": "running"}})
    response, payload = _invoke(sim, name)
    assert "FunctionError" not in response and payload == {"status": "running"}


def test_a_lambda_task_retries_an_injected_error_then_succeeds(fly, plan, make_function):
    name = make_function(HEALTHY)
    plan.add("lambda", name, attempts="1-2", error={"errorType": "Throttled", "errorMessage": "slow down"})
    flight = fly({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
        "Parameters": {"FunctionName": name},
        "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 30, "MaxAttempts": 2}], "End": True}}})
    assert flight.status == "SUCCEEDED"
    assert [e["taskFailedEventDetails"]["error"] for e in flight.events("TaskFailed")] == ["Throttled", "Throttled"]
    assert len(plan.applied) == 2


@pytest.mark.parametrize("fault", [{"timeout": True}, {"delay_seconds": 300}], ids=["timeout", "delay"])
def test_a_lambda_task_whose_function_waits_on_the_clock_lets_virtual_time_skip(fly, plan, make_function, fault):
    """The execution only waits for the invocation (it lends its busy claim to the server thread,
    `sim.clock.VirtualClock.lend`): before, both counted as busy and the 300 s passed in wall time."""
    name = make_function(HEALTHY, timeout=300)
    plan.add("lambda", name, **fault)
    flight = fly({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": name},
        "End": True}}})
    assert flight.status == ("FAILED" if "timeout" in fault else "SUCCEEDED")
    started, ended = flight.events("TaskStarted")[0], flight.events(
        "TaskFailed" if "timeout" in fault else "TaskSucceeded")[0]
    assert flight.seconds_between(started, ended) >= 300
    assert flight.wall_s < 60


def test_async_retries_of_a_failing_function_wait_60_then_120_seconds_in_log_timestamps(sim, make_function):
    name = make_function(FAILING)
    wall = time.monotonic()
    _invoke(sim, name, InvocationType="Event")
    assert sim.aws.wait_for_async(60)
    assert time.monotonic() - wall < 30
    events = sim.aws.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    starts = [e["timestamp"] for e in events if e["message"].startswith("START RequestId")]
    assert len(starts) == 3
    assert [(b - a) / 1000 for a, b in itertools.pairwise(starts)] == [
        pytest.approx(60, abs=1), pytest.approx(120, abs=1)]


def _memory_used(report: str) -> int:
    import re

    return int(re.search(r"Max Memory Used: (\d+) MB", report).group(1))


def test_an_injected_result_comes_from_a_real_environment_whose_measured_peak_is_reported(sim, plan, make_function):
    """AWS runs the failing invocation in an execution environment: REPORT shows its Init Duration when it
    was a cold start, and its measured Max Memory Used (a Python runtime holds several MB), never 0."""
    name = make_function(HEALTHY)
    plan.add("lambda", name, attempts="1-2", error="Lambda.Unknown")
    _invoke(sim, name)
    _invoke(sim, name)
    logs = sim.aws.lambda_logs(name)
    reports = [line for line in logs if line.startswith("REPORT RequestId:")]
    assert len(reports) == 2
    assert sum(line.startswith("INIT_START") for line in logs) == 1  # the second fault ran warm
    assert "Init Duration:" in reports[0] and "Init Duration:" not in reports[1]
    assert all(_memory_used(r) >= 5 for r in reports), reports


def test_an_injected_timeout_reports_the_environments_peak_and_ends_it(sim, plan, make_function):
    name = make_function(HEALTHY, timeout=3)
    plan.add("lambda", name, attempts=1, timeout=True)
    _invoke(sim, name)
    assert _invoke(sim, name)[1] == {"ran": True}
    logs = sim.aws.lambda_logs(name)
    timed_out = next(line for line in logs if line.startswith("REPORT") and "Status: timeout" in line)
    assert _memory_used(timed_out) >= 5
    assert sum(line.startswith("INIT_START") for line in logs) == 2  # Lambda replaced the timed-out environment
