"""EventBridge schedules on the virtual clock, schedule parsing, and CloudWatch alarm evaluation."""

from __future__ import annotations

import datetime
import itertools
import json

import pytest

from sim import context as sim_context
from sim.aws import AwsSimulator, metrics
from sim.aws.moto_seams import events
from sim.aws.schedules import ScheduleError, parse
from sim.simulator import Simulator

UTC = datetime.UTC


def test_cron_weekday_mornings_skip_the_weekend() -> None:
    friday = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert parse("cron(0 9 ? * MON-FRI *)").next_after(friday) == datetime.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_rate_fires_one_period_after_creation() -> None:
    created = datetime.datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert parse("rate(1 hour)").next_after(created, created=created) == created + datetime.timedelta(hours=1)


@pytest.mark.parametrize("bad", ["rate(1 hours)", "rate(5 minute)", "cron(0 9 * * * *)", "cron(0 9 L * ? *)"])
def test_invalid_or_unsupported_schedule_expressions_are_refused(bad: str) -> None:
    with pytest.raises(ScheduleError):
        parse(bad)


def test_alarm_goes_to_alarm_when_the_period_breaches_and_ok_when_it_ages_out() -> None:
    now = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    spec = metrics.AlarmSpec("a", "AWS/States", "ExecutionsFailed", (("StateMachineArn", "m"),), "Sum", 60, 1, 1.0,
                             "GreaterThanOrEqualToThreshold", treat_missing_data="notBreaching")
    failed = metrics.execution_metrics("m", "FAILED", now - datetime.timedelta(seconds=5), now)
    verdict = metrics.evaluate(spec, failed, now)
    assert verdict is not None and verdict.state == "ALARM"
    later = metrics.evaluate(spec, failed, now + datetime.timedelta(minutes=5))
    assert later is not None and later.state == "OK"


def _hourly_rule(sim: Simulator, name: str = "hourly") -> str:
    """An hourly rule targeting a Pass machine of `sim`: the machine's ARN."""
    iam, sfn, eb = sim.aws.client("iam"), sim.aws.client("stepfunctions"), sim.aws.client("events")
    role = iam.create_role(RoleName=f"sched-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = sfn.create_state_machine(name=name, roleArn=role, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    eb.put_rule(Name=name, ScheduleExpression="rate(1 hour)")
    eb.put_targets(Rule=name, Targets=[{"Id": "sfn", "Arn": machine, "RoleArn": role}])
    return machine


def _a_day_later(sim: Simulator, machine: str) -> list[dict]:
    """Sleep a day (and a minute) of `sim`'s time; the executions of `machine` by then.

    The test is an actor while it reads (`busy`): an idle virtual clock would otherwise skip on to the
    25th firing between the end of the sleep and the listing."""
    with sim.clock.busy():
        start = sim.clock.now()
        sim.clock.sleep(24 * 3600 + 60)
        assert sim.clock.now() - start >= 24 * 3600
        return sim.aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]


def test_a_day_of_hourly_runs_starts_24_executions_on_the_virtual_clock() -> None:
    with Simulator.start(databricks=False) as sim, sim.clock.busy():
        machine = _hourly_rule(sim)
        executions = _a_day_later(sim, machine)
        assert len(executions) == 24
        times = sorted(e["startDate"] for e in executions)
        gaps = {round((b - a).total_seconds() / 60) for a, b in itertools.pairwise(times)}
        assert gaps == {60}
        sfn = sim.aws.client("stepfunctions")
        first = json.loads(sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"])
        assert first["detail-type"] == "Scheduled Event"
        assert [f["target"] for f in events.fired()] == [machine] * 24
        assert all("execution_arn" in f for f in events.fired())


def test_a_simulator_started_after_another_stopped_fires_its_schedule_on_its_own_clock(tmp_path) -> None:
    """The scheduler belongs to its simulator: it stops with it and the next one starts its own. (It was one
    thread per process that lived while any simulator ran, here the one beside, as the test session's does,
    bound to the clock of the simulator that started it: a later simulator's rules then waited on a stopped
    clock, and the last firing times, kept by rule ARN, leaked into the next simulator with that ARN.)"""
    with AwsSimulator.start(state_dir=tmp_path / "beside"):
        for _ in range(2):
            with Simulator.start(databricks=False) as sim, sim.clock.busy():
                machine = _hourly_rule(sim)
                assert len(_a_day_later(sim, machine)) == 24
                assert len(events.fired()) == 24


def test_two_simulators_side_by_side_fire_each_their_own_rules_on_their_own_clocks() -> None:
    """Each simulator's scheduler reads only its own account's rules, waits on its own clock and starts
    executions on its own port."""
    with (Simulator.start(databricks=False, seed=1) as first, Simulator.start(databricks=False, seed=2) as second,
          first.clock.busy(), second.clock.busy()):  # each one's time moves only while the test sleeps on it
        second_machine = _hourly_rule(second, "second")
        with sim_context.bind(first.context):
            first_machine = _hourly_rule(first, "first")
            assert len(_a_day_later(first, first_machine)) == 24
            assert {f["target"] for f in events.fired()} == {first_machine}
        assert events.fired() == []
        sfn = second.aws.client("stepfunctions")
        assert sfn.list_executions(stateMachineArn=second_machine)["executions"] == []
        assert len(_a_day_later(second, second_machine)) == 24
        assert [f["target"] for f in events.fired()] == [second_machine] * 24

def test_a_disabled_rule_fires_only_once_enabled_and_from_then_on() -> None:
    """The scheduler sleeps until woken when no rule is enabled: EnableRule wakes it, and the firings missed
    while the rule was disabled are not made up."""
    with Simulator.start(databricks=False) as sim, sim.clock.busy():
        machine = _hourly_rule(sim)
        eb = sim.aws.client("events")
        eb.disable_rule(Name="hourly")
        assert _a_day_later(sim, machine) == []
        eb.enable_rule(Name="hourly")
        executions = _a_day_later(sim, machine)
        assert len(executions) == 24
        assert len(events.fired()) == 24
