"""Wait states on the virtual clock: an hour of waiting takes seconds of wall time, and the history
records exactly the waited amounts (WaitStateEntered → WaitStateExited), as AWS would."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from sim import clock

HOUR = 3600


def _waits(flight):
    entered = flight.events("WaitStateEntered")
    exited = flight.events("WaitStateExited")
    return [flight.seconds_between(a, b) for a, b in zip(entered, exited, strict=True)]


def test_an_hour_of_wait_seconds_finishes_in_seconds_with_exact_history_timestamps(fly):
    flight = fly({"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Seconds": 1800, "Next": "W2"},
        "W2": {"Type": "Wait", "Seconds": 1800, "End": True},
    }})
    assert flight.status == "SUCCEEDED"
    assert _waits(flight) == [pytest.approx(1800, abs=0.5), pytest.approx(1800, abs=0.5)]
    assert (flight.description["stopDate"] - flight.description["startDate"]).total_seconds() == pytest.approx(
        HOUR, abs=1)
    assert flight.wall_s < 30, "virtual time must skip the waits"


def test_a_wait_counts_from_the_states_entry_even_when_its_thread_is_held_up_before_waiting(fly, monkeypatch):
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import Seconds

    read = Seconds._get_wait_seconds

    def held_up(self, env):
        time.sleep(0.3)  # the execution's thread descheduled between entering the state and waiting (busy)
        return read(self, env)

    monkeypatch.setattr(Seconds, "_get_wait_seconds", held_up)
    flight = fly({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}})
    assert flight.status == "SUCCEEDED"
    assert _waits(flight) == [pytest.approx(100, abs=0.05)]


def test_seconds_path_waits_the_seconds_read_from_the_input(fly):
    flight = fly({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.delay", "End": True}}},
                 {"delay": 900})
    assert flight.status == "SUCCEEDED"
    assert _waits(flight) == [pytest.approx(900, abs=0.5)]


def test_timestamp_waits_until_that_instant_of_simulator_time(fly):
    until = (clock.utcnow() + timedelta(hours=2)).replace(microsecond=0)
    flight = fly({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Timestamp": until.strftime("%Y-%m-%dT%H:%M:%SZ"), "End": True}}})
    assert flight.status == "SUCCEEDED"
    exited = flight.events("WaitStateExited")[0]["timestamp"]
    assert abs((exited - until).total_seconds()) < 1
    assert flight.wall_s < 30


def test_timestamp_path_in_the_past_does_not_wait(fly):
    past = datetime(2001, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    flight = fly({"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}},
                 {"at": past})
    assert flight.status == "SUCCEEDED"
    # Not waited: the clock did not jump, so the state took no more simulator time than the flight took real
    # time (a fixed bound failed at 0.82 s on a loaded machine: the interpreter itself was that slow).
    (waited,) = _waits(flight)
    assert 0 <= waited <= flight.wall_s


def test_state_machine_timeout_seconds_times_the_execution_out_on_the_simulator_clock(fly):
    flight = fly({"StartAt": "W", "TimeoutSeconds": 60,
                  "States": {"W": {"Type": "Wait", "Seconds": HOUR, "End": True}}})
    assert flight.status == "TIMED_OUT"
    started = flight.events("ExecutionStarted")[0]
    timed_out = flight.events("ExecutionTimedOut")[0]
    assert flight.seconds_between(started, timed_out) == pytest.approx(60, abs=0.5)
    assert flight.wall_s < 30


def test_parallel_branches_wait_side_by_side_and_the_state_ends_with_the_longest(fly):
    flight = fly({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Short", "States": {"Short": {"Type": "Wait", "Seconds": 100, "End": True}}},
        {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 300, "End": True}}},
    ]}}})
    assert flight.status == "SUCCEEDED"
    assert sorted(_waits(flight)) == [pytest.approx(100, abs=0.5), pytest.approx(300, abs=0.5)]
    entered, exited = flight.events("ParallelStateEntered")[0], flight.events("ParallelStateExited")[0]
    assert flight.seconds_between(entered, exited) == pytest.approx(300, abs=0.5)


def test_map_iterations_each_wait_their_own_seconds(fly):
    flight = fly({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.delays", "MaxConcurrency": 0, "End": True,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "W",
                          "States": {"W": {"Type": "Wait", "SecondsPath": "$", "End": True}}}}}},
        {"delays": [60, 600, 120]})
    assert flight.status == "SUCCEEDED"
    assert sorted(_waits(flight)) == [pytest.approx(s, abs=0.5) for s in (60, 120, 600)]
    entered, exited = flight.events("MapStateEntered")[0], flight.events("MapStateExited")[0]
    assert flight.seconds_between(entered, exited) == pytest.approx(600, abs=0.5)


def test_the_context_objects_entered_time_is_simulator_time(fly):
    """`$$.State.EnteredTime` of the state after an hour's Wait is an hour after the execution started."""
    flight = fly({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": HOUR, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"entered.$": "$$.State.EnteredTime",
                                             "started.$": "$$.Execution.StartTime"}, "End": True},
    }})
    assert flight.status == "SUCCEEDED"
    output = json.loads(flight.description["output"])
    entered, started = (datetime.fromisoformat(output[k].replace("Z", "+00:00")) for k in ("entered", "started"))
    assert (entered - started).total_seconds() == pytest.approx(HOUR, abs=1)


@pytest.mark.usefixtures("sim")
def test_a_failed_parallel_branch_ends_on_simulator_time():
    """No API shows the stop date moto gives the branches of a failed Parallel, so this reads the clock that
    module sees: while a simulator runs, its `datetime.datetime.now()` is the simulator's time."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    clock.get().advance(10 * 86400)  # virtual time now runs ten days ahead of the wall clock
    assert abs(branches_decl.datetime.datetime.now(tz=UTC).timestamp() - clock.now()) < 60


def test_a_timestamp_wait_counts_from_simulator_time_not_the_wall_clock(fly, sim):
    """With simulator time a day ahead of the wall clock, a Timestamp ten minutes ahead waits ten minutes."""
    sim.clock.advance(86400)
    until = (datetime.fromtimestamp(clock.now(), tz=UTC) + timedelta(minutes=10)).replace(microsecond=0)
    flight = fly({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Timestamp": until.strftime("%Y-%m-%dT%H:%M:%SZ"), "End": True}}})
    assert flight.status == "SUCCEEDED"
    assert abs((flight.events("WaitStateExited")[0]["timestamp"] - until).total_seconds()) < 1
