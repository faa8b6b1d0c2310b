"""Small real state machines for the harness's own tests (coverage, report), on the session simulator."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

FLAKY_HANDLER = '''
import os
ATTEMPTS = {}
def handler(event, context):
    key = event.get("key", "k")
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= event.get("fail_times", 0):
        class Flaky(Exception):
            pass
        raise Flaky(f"attempt {ATTEMPTS[key]} fails")
    if event.get("always_fail"):
        raise ValueError("this input always fails")
    return {"ok": True, "attempts": ATTEMPTS[key], "secret_echo": os.environ.get("ECHO", "")}
'''

DEFINITION = {
    "Comment": "Retry then succeed, or catch: a small machine with every kind of edge",
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.mode", "StringEquals": "skip", "Next": "Skipped"}],
            "Default": "CallFlaky",
        },
        "CallFlaky": {
            "Type": "Task",
            "Resource": "${FunctionArn}",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Skipped": {"Type": "Pass", "End": True},
        "Failed": {"Type": "Fail", "Error": "Caught", "Cause": "the task failed"},
    },
}


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("flaky.py", source)
    return buf.getvalue()


@pytest.fixture(scope="session")
def small_machine(stepbricks):
    """A deployed state machine whose Lambda fails its first `fail_times` attempts per key."""
    sim = stepbricks.require_simulator("a private Lambda and state machine")
    iam, lam, sfn = stepbricks.client("iam"), stepbricks.client("lambda"), stepbricks.client("stepfunctions")
    role = iam.create_role(
        RoleName="harness-test-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    fn = lam.create_function(
        FunctionName="harness-flaky",
        Runtime="python3.11",
        Role=role,
        Handler="flaky.handler",
        Code={"ZipFile": _zip(FLAKY_HANDLER)},
        Timeout=10,
        Environment={"Variables": {"ECHO": "dapi-not-a-real-secret-0123456789"}},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName="harness-flaky")
    definition = json.dumps(DEFINITION).replace("${FunctionArn}", fn)
    arn = sfn.create_state_machine(name="harness-small", definition=definition, roleArn=role)["stateMachineArn"]
    return {"arn": arn, "definition": json.loads(definition), "sim": sim}
