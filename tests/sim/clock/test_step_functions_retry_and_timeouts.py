"""Retry back-off, task timeouts, heartbeats and the seed 003 polling loop on the virtual clock: intervals
in the history are exactly what the Retry policy says (IntervalSeconds x BackoffRate^n capped by
MaxDelaySeconds; FULL jitter a seeded draw below it), in seconds of wall time."""

from __future__ import annotations

import json
import random
import time

import pytest

from sim import context as sim_context
from sim.aws.moto_seams.sfn_time import ProgramThread, TaskDeadline
from sim.clock import VirtualClock

FAILING = """
class TransientError(Exception):
    pass

def handler(event, context):
    raise TransientError("still broken")
"""

ECHO = """
def handler(event, context):
    return event
"""

# The seed 003 status Lambda: reports "running" until it has been polled `ready_after` times.
STATUS = """
def handler(event, context):
    polls = event.get("polls", 0) + 1
    return {"polls": polls, "ready_after": event["ready_after"],
            "status": "done" if polls >= event["ready_after"] else "running"}
"""


def _lambda_task(function: str, **extra):
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
            "Parameters": {"FunctionName": function, "Payload.$": "$"}, **extra}


def _retry_gaps(flight):
    failed = flight.events("TaskFailed")
    scheduled = flight.events("TaskScheduled")[1:]
    return [flight.seconds_between(f, s) for f, s in zip(failed, scheduled, strict=False)]


def test_retry_back_off_waits_interval_times_backoff_rate_capped_by_max_delay(fly, make_function):
    function = make_function(FAILING)
    retry = {"ErrorEquals": ["TransientError"], "IntervalSeconds": 10, "BackoffRate": 2.0, "MaxAttempts": 3,
             "MaxDelaySeconds": 30}
    flight = fly({"StartAt": "Call", "States": {"Call": _lambda_task(function, Retry=[retry], End=True)}})
    assert flight.status == "FAILED"
    assert len(flight.events("TaskScheduled")) == 4
    assert _retry_gaps(flight) == [pytest.approx(10, abs=0.5), pytest.approx(20, abs=0.5), pytest.approx(30, abs=0.5)]


def test_an_hour_of_back_off_ends_in_the_catch_path_within_seconds_of_wall_time(fly, make_function):
    function = make_function(FAILING)
    retry = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 225, "BackoffRate": 2.0, "MaxAttempts": 4}
    flight = fly({"StartAt": "Call", "States": {
        "Call": _lambda_task(function, Retry=[retry], Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Recovered"}],
                             Next="Done"),
        "Recovered": {"Type": "Pass", "End": True},
        "Done": {"Type": "Succeed"},
    }})
    assert flight.status == "SUCCEEDED"
    assert [e["stateEnteredEventDetails"]["name"] for e in flight.events("PassStateEntered")] == ["Recovered"]
    assert sum(_retry_gaps(flight)) == pytest.approx(225 * (1 + 2 + 4 + 8), abs=2)  # 3375 s
    assert flight.wall_s < 60


def test_full_jitter_draws_each_interval_from_a_generator_seeded_by_the_execution(fly, make_function):
    function = make_function(FAILING)
    retry = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 100, "BackoffRate": 1.0, "MaxAttempts": 3,
             "JitterStrategy": "FULL"}
    flight = fly({"StartAt": "Call", "States": {"Call": _lambda_task(function, Retry=[retry], End=True)}})
    rng = random.Random(f"0:{flight.description['executionArn']}")
    expected = [rng.uniform(0, 100) for _ in range(3)]
    assert _retry_gaps(flight) == [pytest.approx(x, abs=0.5) for x in expected]


def test_callback_task_times_out_after_timeout_seconds_of_simulator_time(fly, make_function):
    function = make_function(ECHO)
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 3600,
            "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}}, "End": True}
    flight = fly({"StartAt": "Wait for callback", "States": {"Wait for callback": task}})
    assert flight.status == "FAILED"
    timed_out = flight.events("TaskTimedOut")
    assert [e["taskTimedOutEventDetails"]["error"] for e in timed_out] == ["States.Timeout"]
    assert flight.seconds_between(flight.events("TaskScheduled")[0], timed_out[0]) == pytest.approx(3600, abs=1)
    assert flight.wall_s < 30


def test_a_task_timeout_counts_from_the_tasks_start_even_when_its_parent_is_late_to_wait():
    """moto starts the task's thread, then waits TimeoutSeconds from the wait's start; the parent's event
    counts from its making (as the task starts), so a parent held up in between does not lengthen it."""
    virtual = VirtualClock(start=1_700_000_000.0)
    with sim_context.bind(sim_context.SimContext(clock=virtual, name="task-deadline")), virtual.busy():
        deadline = TaskDeadline()
        made = virtual.now()
        time.sleep(0.3)  # the parent descheduled after starting the task (busy: time runs)
        assert deadline.wait(3600) is False
        assert virtual.now() - made == pytest.approx(3600, abs=0.05)
    virtual.close()


def test_a_state_machine_timeout_counts_from_the_executions_start_even_when_its_parent_is_late_to_join():
    """moto's Program starts the execution's thread, then joins it for TimeoutSeconds from the join's start."""
    virtual = VirtualClock(start=1_700_000_000.0)
    with sim_context.bind(sim_context.SimContext(clock=virtual, name="program-deadline")), virtual.busy():
        execution = ProgramThread(target=lambda: virtual.sleep(10_000), daemon=True)
        started = virtual.now()
        execution.start()
        time.sleep(0.3)  # the parent descheduled after starting the execution (busy: time runs)
        execution.join(60)
        assert execution.is_alive()
        assert virtual.now() - started == pytest.approx(60, abs=0.05)
    virtual.close()


def test_heartbeat_seconds_fails_a_silent_callback_task_with_states_timeout(fly, make_function):
    # Recorded AWS executions report a missed heartbeat as TaskTimedOut "States.Timeout" (issue 18), not
    # the guide's States.HeartbeatTimeout.
    function = make_function(ECHO)
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 3600,
            "HeartbeatSeconds": 600,
            "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}}, "End": True}
    flight = fly({"StartAt": "Wait for callback", "States": {"Wait for callback": task}})
    assert flight.status == "FAILED"
    timed_out = flight.events("TaskTimedOut")
    assert [e["taskTimedOutEventDetails"]["error"] for e in timed_out] == ["States.Timeout"]
    assert flight.seconds_between(flight.events("TaskScheduled")[0], timed_out[0]) == pytest.approx(600, abs=1)


def test_seed_003_polling_loop_waits_exactly_30_seconds_between_polls(fly, make_function):
    function = make_function(STATUS)
    flight = fly({"StartAt": "Poll", "States": {
        "Poll": _lambda_task(function, Next="Ready?"),
        "Ready?": {"Type": "Choice", "Choices": [{"Variable": "$.status", "StringEquals": "done", "Next": "Done"}],
                   "Default": "Wait 30 s"},
        "Wait 30 s": {"Type": "Wait", "Seconds": 30, "Next": "Poll"},
        "Done": {"Type": "Succeed"},
    }}, {"ready_after": 20})
    assert flight.status == "SUCCEEDED"
    entered, exited = flight.events("WaitStateEntered"), flight.events("WaitStateExited")
    assert len(entered) == 19
    assert [flight.seconds_between(a, b) for a, b in zip(entered, exited, strict=True)] == [
        pytest.approx(30, abs=0.5)] * 19
    assert flight.wall_s < 60  # 570 s of polling


def test_a_task_doing_real_work_times_out_at_wall_speed(fly, make_function):
    """While a Lambda runs, it is an actor: TimeoutSeconds is not skipped to (Temporal's rule)."""
    function = make_function("import time\n\ndef handler(event, context):\n    time.sleep(3)\n    return 1\n")
    flight = fly({"StartAt": "Slow", "States": {"Slow": _lambda_task(function, TimeoutSeconds=1, End=True)}})
    assert flight.status == "FAILED"
    timed_out = flight.events("TaskTimedOut")
    assert [e["taskTimedOutEventDetails"]["error"] for e in timed_out] == ["States.Timeout"]
    assert flight.seconds_between(flight.events("TaskScheduled")[0], timed_out[0]) == pytest.approx(1, abs=0.5)


def test_a_sync_parent_polls_its_child_on_the_simulator_clock(fly, sim, role_arn):
    """`startExecution.sync:2` checks on its child every half second of simulator time: a child's two-minute
    Wait is skipped (moto's real `time.sleep` between checks held the clock, so it took two real minutes)."""
    child = sim.aws.client("stepfunctions").create_state_machine(
        name="sync-child", roleArn=role_arn, definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 120, "End": True}}}))["stateMachineArn"]
    flight = fly({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {}}, "End": True}}})
    assert flight.status == "SUCCEEDED"
    assert (flight.description["stopDate"] - flight.description["startDate"]).total_seconds() >= 120
    assert flight.wall_s < 90
