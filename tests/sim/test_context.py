"""The simulator context: two simulators in one process keep their clocks, fault plans, AWS state and ids
apart, and a background thread that fails is raised in the test that owns the simulator."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sim import clock, context, faults
from sim.simulator import Simulator

ECHO = "def handler(event, context):\n    return {'echo': event}\n"


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _deploy(sim: Simulator) -> tuple[str, str]:
    """The same names in both simulators: a function `echo` and a state machine that waits an hour, then
    calls it. Returns (function ARN, state machine ARN)."""
    role = sim.aws.client("iam").create_role(RoleName="ctx", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    fn = sim.aws.client("lambda").create_function(
        FunctionName="echo", Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": _zip(ECHO)}, Timeout=10)["FunctionArn"]
    definition = {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "Seconds": 3600, "Next": "Call"},
        "Call": {"Type": "Task", "Resource": fn, "End": True}}}
    machine = sim.aws.client("stepfunctions").create_state_machine(
        name="hour", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]
    return fn, machine


def _finish(sim: Simulator, arn: str, timeout_s: float = 60) -> dict[str, Any]:
    sfn = sim.aws.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still running"
        time.sleep(0.05)
    return described


def test_two_simulators_side_by_side_keep_clocks_plans_state_and_ids_apart(tmp_path):
    plan_a = faults.FaultPlan().add("lambda", "echo", attempts=1, error="Lambda.ServiceException")
    plan_b = faults.FaultPlan()
    with (Simulator.start(state_dir=tmp_path / "a", databricks=False, fault_plan=plan_a, seed=1) as a,
          Simulator.start(state_dir=tmp_path / "b", databricks=False, fault_plan=plan_b, seed=2) as b):
        assert a.context is not b.context and a.clock is not b.clock
        assert a.aws.account_id != b.aws.account_id  # moto's backends are per account: the same names coexist
        fn_a, machine_a = _deploy(a)
        fn_b, machine_b = _deploy(b)
        assert fn_a != fn_b

        # B's clock is moved by hand; A's does not follow.
        a_before = a.clock.now()
        b.clock.advance(10 * 86400)
        assert b.clock.now() - a.clock.now() > 10 * 86400 - 60
        assert a.clock.now() - a_before < 60

        # Each execution waits an hour on its own clock, then calls its own `echo` under its own plan.
        exec_a = a.aws.start_execution(machine_a, {"n": 1})
        exec_b = b.aws.start_execution(machine_b, {"n": 1})
        done_a, done_b = _finish(a, exec_a), _finish(b, exec_b)
        assert done_a["status"] == "FAILED" and done_a["error"] == "Lambda.ServiceException"
        assert done_b["status"] == "SUCCEEDED" and json.loads(done_b["output"]) == {"echo": {"n": 1}}
        assert [f.target for f in plan_a.applied] == ["lambda:echo"] and plan_b.applied == []
        for done in (done_a, done_b):  # the Wait lasted an hour of each simulator's time
            assert (done["stopDate"] - done["startDate"]).total_seconds() >= 3600
        assert done_b["startDate"].timestamp() - done_a["startDate"].timestamp() > 10 * 86400 - 120

        # Each side sees only its own executions and its own ids (execution names from its own seed).
        names_a = [e["name"] for e in a.aws.client("stepfunctions").list_executions(stateMachineArn=machine_a)["executions"]]
        names_b = [e["name"] for e in b.aws.client("stepfunctions").list_executions(stateMachineArn=machine_b)["executions"]]
        assert names_a == [exec_a.rsplit(":", 1)[1]] and names_b == [exec_b.rsplit(":", 1)[1]]
        assert names_a != names_b
        with pytest.raises(ClientError):
            a.aws.client("stepfunctions").describe_execution(executionArn=exec_b)

        # The thread that started a simulator works for it; a thread it starts inherits that.
        with a.context.bound():
            assert clock.get() is a.clock and faults.active() is plan_a
            seen: list[Any] = []
            worker = context.Thread(target=lambda: seen.append(context.current()))
            worker.start()
            worker.join()
            assert seen == [a.context]
        assert clock.get() is b.clock  # the newest binding of this thread


def test_the_same_seed_gives_the_same_ids_and_another_seed_other_ids():
    one, again, other = context.IdSource(7), context.IdSource(7), context.IdSource(8)
    draws = [one.uuid("execution"), one.uuid("request"), one.uuid("execution")]
    assert draws == [again.uuid("execution"), again.uuid("request"), again.uuid("execution")]
    assert other.uuid("execution") != draws[0]
    fresh = context.IdSource(7)  # kinds are independent streams: drawing requests does not shift executions
    assert [fresh.uuid("execution"), fresh.uuid("execution")] == [draws[0], draws[2]]


def test_a_failed_background_thread_is_raised_where_the_simulator_is_used(tmp_path):
    with Simulator.start(state_dir=tmp_path, databricks=False) as sim:
        def broken() -> None:
            raise ValueError("the S3 delivery thread fell over")

        thread = context.Thread(target=broken, name="s3-delivery")
        thread.start()
        thread.join()
        with pytest.raises(context.BackgroundFailure, match="the S3 delivery thread fell over") as raised:
            sim.raise_background_failures()
        assert "s3-delivery" in str(raised.value)
        sim.raise_background_failures()  # each failure is raised once


def test_a_failure_in_a_moto_interpreter_thread_reaches_the_sink(tmp_path):
    """moto's execution threads are the simulator's `ActorThread`s: what kills one is not only logged."""
    with Simulator.start(state_dir=tmp_path, databricks=False) as sim:
        failed = threading.Event()

        def crash() -> None:
            failed.set()
            raise RuntimeError("interpreter thread crashed")

        actor = clock.ActorThread(target=crash, name="execution-worker")
        actor.start()
        actor.join()
        assert failed.is_set()
        with pytest.raises(context.BackgroundFailure, match="interpreter thread crashed"):
            sim.raise_background_failures()


def test_a_simulator_beside_a_bare_aws_simulator_takes_its_own_account_and_leaves_nothing_behind(tmp_path):
    """Found by the suite under pytest-xdist: a worker's AwsSimulator fixture kept moto from being reset, so a
    second fresh Simulator in the same account met the first one's IAM role (EntityAlreadyExists)."""
    from sim.aws import AwsSimulator

    with AwsSimulator.start(state_dir=tmp_path / "bare") as bare:
        bare.client("s3").create_bucket(Bucket="bare-keeps-this")
        for flight in ("one", "two"):
            with Simulator.start(state_dir=tmp_path / flight, databricks=False, seed=3) as sim:
                assert sim.context.aws_account_id != bare.account_id
                sim.aws.client("iam").create_role(RoleName="seeded", AssumeRolePolicyDocument="{}")
                assert "bare-keeps-this" not in [b["Name"] for b in sim.aws.client("s3").list_buckets()["Buckets"]]
        assert "bare-keeps-this" in [b["Name"] for b in bare.client("s3").list_buckets()["Buckets"]]


FAN_OUT = {
    "Map": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}, "End": True},
    "Parallel": {"Type": "Parallel", "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}},
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}], "End": True},
}


@pytest.mark.parametrize("state", FAN_OUT)
def test_map_iterations_and_parallel_branches_work_for_their_executions_simulator(tmp_path, state):
    """Their threads wait on the clock of the simulator that runs the execution, not on the newest one's,
    whose time here stands still."""
    with (Simulator.start(state_dir=tmp_path / "a", databricks=False, seed=1) as a,
          Simulator.start(state_dir=tmp_path / "b", databricks=False, seed=2) as b, b.clock.busy()):
        role = a.aws.client("iam").create_role(RoleName="fan", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        machine = a.aws.client("stepfunctions").create_state_machine(
            name="fan", roleArn=role, definition=json.dumps({"StartAt": "S", "States": {"S": FAN_OUT[state]}}),
        )["stateMachineArn"]
        done = _finish(a, a.aws.start_execution(machine, {"items": [1, 2]}))
        assert done["status"] == "SUCCEEDED"
        assert (done["stopDate"] - done["startDate"]).total_seconds() >= 3600

