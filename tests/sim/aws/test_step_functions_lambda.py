"""Step Functions with Lambda Tasks on the local runtime: Retry on a custom error name, then Catch.

On AWS, an uncaught exception in the handler surfaces to the state machine as an error named after
the exception class (`errorType`), so `Retry`/`Catch` on that name match (Step Functions developer
guide, "Handling errors in Step Functions workflows").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.aws import AwsSimulator

FLAKY = """
import os

class TransientError(Exception):
    pass

def handler(event, context):
    path = os.environ["ATTEMPTS_FILE"]
    attempts = int(open(path).read()) + 1 if os.path.exists(path) else 1
    with open(path, "w") as f:
        f.write(str(attempts))
    if attempts <= int(os.environ["FAIL_TIMES"]):
        raise TransientError(f"attempt {attempts} failed")
    return {"attempts": attempts, "input": event}
"""


def _definition(resource: str, parameters: dict[str, Any] | None) -> str:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        # IntervalSeconds must be a positive integer; moto sleeps it for real, so keep it minimal.
        "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recovered"}],
        "Next": "Done",
    }
    if parameters:
        task["Parameters"] = parameters
    return json.dumps({
        "StartAt": "CallLambda",
        "States": {
            "CallLambda": task,
            "Recovered": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
        },
    })


def _run(aws: AwsSimulator, role_arn: str, definition: str, name: str) -> tuple[dict[str, Any], list[dict]]:
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn)["stateMachineArn"]
    execution = aws.start_execution(machine, {"batch": "b-1"})
    description = _wait_for_execution(sfn, execution)
    history = sfn.get_execution_history(executionArn=execution)["events"]
    return description, history


def _wait_for_execution(sfn: Any, execution_arn: str, timeout_s: float = 30.0) -> dict[str, Any]:
    import threading

    pause = threading.Event()
    for _ in range(int(timeout_s / 0.05)):
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        pause.wait(0.05)
    raise AssertionError(f"execution {execution_arn} still RUNNING after {timeout_s} s")


def test_retry_on_custom_error_then_catch_on_states_all(aws: AwsSimulator, role_arn, make_function,
                                                        tmp_path: Path):
    name = make_function(FLAKY, env={"ATTEMPTS_FILE": str(tmp_path / "n"), "FAIL_TIMES": "99"})
    description, history = _run(
        aws, role_arn,
        _definition("arn:aws:states:::lambda:invoke", {"FunctionName": name, "Payload.$": "$"}),
        "retry-then-catch",
    )

    assert description["status"] == "SUCCEEDED"
    assert (tmp_path / "n").read_text() == "3"  # the first attempt and MaxAttempts=2 retries
    failures = [e for e in history if e["type"] == "TaskFailed"]
    assert len(failures) == 3
    for failure in failures:
        details = failure["taskFailedEventDetails"]
        assert details["error"] == "TransientError"
        assert json.loads(details["cause"])["errorType"] == "TransientError"
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered == ["CallLambda", "Recovered"]
    output = json.loads(description["output"])
    assert output["batch"] == "b-1"
    assert output["error"]["Error"] == "TransientError"
    assert json.loads(output["error"]["Cause"])["errorMessage"] == "attempt 3 failed"


def test_retry_on_custom_error_recovers_when_a_later_attempt_succeeds(aws: AwsSimulator, role_arn, make_function,
                                                                      tmp_path: Path):
    name = make_function(FLAKY, env={"ATTEMPTS_FILE": str(tmp_path / "n"), "FAIL_TIMES": "1"})
    arn = aws.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    description, history = _run(aws, role_arn, _definition(arn, None), "retry-then-succeed")

    assert description["status"] == "SUCCEEDED"
    assert json.loads(description["output"]) == {"attempts": 2, "input": {"batch": "b-1"}}
    failed = [e for e in history if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == ["TransientError"]
    assert [e for e in history if e["type"] == "LambdaFunctionSucceeded"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered == ["CallLambda", "Done"]
