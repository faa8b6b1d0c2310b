"""`Simulator.start(real_time=..., fault_plan=...)`: the clock and the plan are the simulator's for its
lifetime and restored after; `real_time=True` really waits (no scale factor)."""

from __future__ import annotations

import json
import time

from sim import clock, faults
from sim.simulator import Simulator


def test_the_simulator_installs_a_virtual_clock_and_its_fault_plan_and_restores_both(tmp_path):
    plan = faults.FaultPlan().add("lambda", "f", error="Boom")
    before_clock, before_plan = clock.get(), faults.active()
    with Simulator.start(state_dir=tmp_path, databricks=False, fault_plan=plan) as sim:
        assert sim.clock is clock.get() and sim.clock.virtual
        assert sim.faults is plan and faults.active() is plan
    assert clock.get() is before_clock and faults.active() is before_plan


def test_real_time_waits_for_real(tmp_path):
    with Simulator.start(state_dir=tmp_path, databricks=False, real_time=True) as sim:
        assert not sim.clock.virtual
        sfn = sim.aws.client("stepfunctions")
        role = sim.aws.client("iam").create_role(RoleName="rt", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        machine = sfn.create_state_machine(name="rt", roleArn=role, definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "End": True}}}))["stateMachineArn"]
        started = time.monotonic()
        arn = sim.aws.start_execution(machine)
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            assert time.monotonic() - started < 60, f"execution {arn} still RUNNING after 60 s (a 2 s Wait)"
            time.sleep(0.05)
        assert time.monotonic() - started >= 2
