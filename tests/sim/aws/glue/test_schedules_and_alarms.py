"""EventBridge schedules on the virtual clock, schedule parsing, and CloudWatch alarm evaluation."""

from __future__ import annotations

import datetime
import itertools
import json

import pytest

from sim import clock
from sim.aws import metrics
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


def test_a_day_of_hourly_runs_starts_24_executions_on_the_virtual_clock() -> None:
    with Simulator.start(databricks=False) as sim:
        iam, sfn, eb = sim.aws.client("iam"), sim.aws.client("stepfunctions"), sim.aws.client("events")
        role = iam.create_role(RoleName="sched", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        machine = sfn.create_state_machine(name="hourly", roleArn=role, definition=json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        eb.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
        eb.put_targets(Rule="hourly", Targets=[{"Id": "sfn", "Arn": machine, "RoleArn": role}])
        start = clock.now()
        clock.sleep(24 * 3600 + 60)
        assert clock.now() - start >= 24 * 3600
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        assert len(executions) == 24
        times = sorted(e["startDate"] for e in executions)
        gaps = {round((b - a).total_seconds() / 60) for a, b in itertools.pairwise(times)}
        assert gaps == {60}
        first = json.loads(sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"])
        assert first["detail-type"] == "Scheduled Event"
        assert all("execution_arn" in f for f in events.fired() if f["target"] == machine)
