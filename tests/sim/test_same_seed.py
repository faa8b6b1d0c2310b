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


def _publish(sim: Simulator, times: int) -> list[str]:
    sns = sim.aws.client("sns")
    topic = sns.create_topic(Name="seeded")["TopicArn"]
    return [sns.publish(TopicArn=topic, Message="m")["MessageId"] for _ in range(times)]


def test_sns_message_ids_follow_the_seed_whatever_another_simulator_draws(tmp_path):
    """moto draws SNS ids from its one process-wide generator; each simulator draws them from its own seed,
    so a simulator beside it that publishes first does not shift them."""
    with Simulator.start(state_dir=tmp_path / "alone", databricks=False, seed=5) as alone:
        expected = _publish(alone, 2)
    with (Simulator.start(state_dir=tmp_path / "first", databricks=False, seed=5) as first,
          Simulator.start(state_dir=tmp_path / "beside", databricks=False, seed=6) as beside):
        _publish(beside, 3)
        assert _publish(first, 2) == expected


CALLBACK_AND_MAP_RUN = {
    "StartAt": "Callback",
    "States": {
        "Callback": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                     "Parameters": {"QueueUrl": "QUEUE", "MessageBody": {"token.$": "$$.Task.Token"}},
                     "ResultPath": None, "Next": "Distributed"},
        "Distributed": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}, "End": True},
    },
}


def _fly_callback_and_map_run(state_dir: Path, seed: int) -> dict[str, Any]:
    """A task token handed out through SQS and answered, then a Distributed Map's map run: its ids and dates."""
    with Simulator.start(state_dir=state_dir, databricks=False, seed=seed, deterministic=True) as sim:
        iam, sqs, sfn = (sim.aws.client(s) for s in ("iam", "sqs", "stepfunctions"))
        role = iam.create_role(RoleName="seeded", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
        definition = json.dumps(CALLBACK_AND_MAP_RUN).replace("QUEUE", queue)
        machine = sfn.create_state_machine(name="seeded", roleArn=role, definition=definition)["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, name="flight", input=json.dumps({"items": [1, 2]}))[
            "executionArn"]
        deadline = time.monotonic() + 60
        while not (messages := sqs.receive_message(QueueUrl=queue).get("Messages")):
            assert time.monotonic() < deadline
        token = json.loads(messages[0]["Body"])["token"]
        sfn.send_task_success(taskToken=token, output="{}")
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        [map_run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        return {"token": token, "map_run": map_run["mapRunArn"], "map_run_start": map_run["startDate"],
                "started": sfn.describe_execution(executionArn=arn)["startDate"]}


def test_task_tokens_and_map_run_ids_follow_the_seed(tmp_path):
    first = _fly_callback_and_map_run(tmp_path / "one", seed=3)
    again = _fly_callback_and_map_run(tmp_path / "two", seed=3)
    other = _fly_callback_and_map_run(tmp_path / "other", seed=4)
    assert (first["token"], first["map_run"]) == (again["token"], again["map_run"])
    assert first["token"] != other["token"] and first["map_run"] != other["map_run"]
    # Map run dates are simulator time too: a frozen clock has not moved since the execution started.
    assert first["map_run_start"] == first["started"] == again["map_run_start"]
