"""Deterministic by seed: two fresh simulators with the same seed and fault plan fly the same state machine
to byte-identical histories (timestamps included), and another seed changes the ids."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

from sim import faults
from sim.simulator import Simulator

FLAKY = """
import json, os
def handler(event, context):
    return {"item": event.get("item"), "request": context.aws_request_id}
"""

DEFINITION = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"items.$": "States.ArrayRange(1, 3, 1)",
                                                   "token.$": "States.UUID()"}, "Next": "Settle"},
        "Settle": {"Type": "Wait", "Seconds": 90, "Next": "Each"},
        "Each": {
            "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
            "ItemSelector": {"item.$": "$$.Map.Item.Value"},
            "ItemProcessor": {"StartAt": "Call", "States": {"Call": {
                "Type": "Task", "Resource": "FUNCTION", "End": True,
                "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 20,
                           "BackoffRate": 2, "MaxAttempts": 3, "JitterStrategy": "FULL"}],
            }}},
            "ResultPath": "$.calls", "Next": "Cool",
        },
        "Cool": {"Type": "Wait", "Seconds": 3600, "End": True},
    },
}


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _fly(state_dir: Path, seed: int) -> dict[str, Any]:
    plan = faults.FaultPlan().add("lambda", "flaky", attempts="1-2", error="Lambda.ServiceException")
    with Simulator.start(state_dir=state_dir, databricks=False, fault_plan=plan, seed=seed,
                         deterministic=True) as sim:
        iam, lam, sfn = (sim.aws.client(s) for s in ("iam", "lambda", "stepfunctions"))
        role = iam.create_role(RoleName="seeded", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        fn = lam.create_function(FunctionName="flaky", Runtime="python3.11", Role=role, Handler="app.handler",
                                 Code={"ZipFile": _zip(FLAKY)}, Timeout=10)["FunctionArn"]
        definition = json.dumps(DEFINITION).replace("FUNCTION", fn)
        machine = sfn.create_state_machine(name="seeded", roleArn=role, definition=definition)["stateMachineArn"]
        arn = sim.aws.start_execution(machine, {"batch": "b-1"})  # no name: the simulator draws one
        deadline = time.monotonic() + 120
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        history = sfn.get_execution_history(executionArn=arn)["events"]
        for response in (described, *history):
            response.pop("ResponseMetadata", None)
        return {"execution": described, "history": history, "faults": [vars(a) for a in plan.applied]}


def _text(flight: dict[str, Any]) -> str:
    return json.dumps(flight, default=str, sort_keys=True, indent=1)


def test_two_flights_with_the_same_seed_are_byte_identical(tmp_path):
    first, second = _fly(tmp_path / "one", seed=11), _fly(tmp_path / "two", seed=11)
    assert first["execution"]["status"] == "SUCCEEDED"
    assert len(first["faults"]) == 2  # the plan fired, and the retries (with FULL jitter) are in the history
    assert _text(first) == _text(second)


def test_another_seed_draws_other_ids(tmp_path):
    first, other = _fly(tmp_path / "one", seed=11), _fly(tmp_path / "other", seed=12)
    assert first["execution"]["name"] != other["execution"]["name"]
    output, other_output = json.loads(first["execution"]["output"]), json.loads(other["execution"]["output"])
    assert output["token"] != other_output["token"]  # States.UUID()
    assert [c["request"] for c in output["calls"]] != [c["request"] for c in other_output["calls"]]
