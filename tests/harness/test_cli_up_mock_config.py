"""`stepbricks up --mock-config FILE` (Step Functions Local's SFN_MOCK_CONFIG): the file is re-read for the
next execution when it is edited, with no restart; a malformed edit is reported in what `up` prints with
file:line: reason, the last good configuration stays in force, and a test case only the refused edit had is
refused saying why. All through boto3 against the running `up`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness.clients import aws_client

ROOT = Path(__file__).resolve().parents[2]
STEPBRICKS = Path(sys.executable).with_name("stepbricks")
MACHINE = {"StartAt": "Call", "States": {
    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
             "Parameters": {"FunctionName": "not-deployed", "Payload.$": "$"}, "End": True}}}


def mocks(payload: str, case: str = "HappyPath") -> str:
    return json.dumps({"StateMachines": {"orders": {"TestCases": {case: {"Call": "CallOk"}}}},
                       "MockedResponses": {"CallOk": {"0": {"Return": {"StatusCode": 200, "Payload": payload}}}}},
                      indent=2)


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    home = tmp_path_factory.mktemp("mock-config-home")
    config = home / "mocks.json"
    config.write_text(mocks("first"))
    log_path = home / "up.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(STEPBRICKS), "up", "--state-dir", str(home / "state"), "--no-databricks", "--no-resonate",
             "--mock-config", str(config)],
            cwd=ROOT, env={**os.environ, "STEPBRICKS_HOME": str(home), "COLUMNS": "200", "PYTHONUNBUFFERED": "1"},
            stdout=log, stderr=subprocess.STDOUT,
        )
        endpoints = home / "endpoints.json"
        deadline = time.monotonic() + 120
        while not endpoints.exists():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        env = json.loads(endpoints.read_text())["env"]
        sfn, iam = aws_client("stepfunctions", env), aws_client("iam", env)
        role = iam.create_role(RoleName="orders-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        arn = sfn.create_state_machine(name="orders", definition=json.dumps(MACHINE), roleArn=role)["stateMachineArn"]
        try:
            yield {"config": config, "log": log_path, "sfn": sfn, "arn": arn}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def output_of(up: dict, case: str, name: str) -> object:
    sfn = up["sfn"]
    execution = sfn.start_execution(stateMachineArn=f"{up['arn']}#{case}", name=name, input="{}")["executionArn"]
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{name} still RUNNING after 60 s"
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def printed(up: dict, text: str, timeout_s: float = 10) -> str:
    deadline = time.monotonic() + timeout_s
    while text not in (log := up["log"].read_text()):
        assert time.monotonic() < deadline, f"{text!r} not printed by up:\n{log[-3000:]}"
        time.sleep(0.1)
    return log


def test_an_edit_is_in_force_for_the_next_execution_and_a_malformed_one_is_refused_saying_where(up):
    config = up["config"]
    assert output_of(up, "HappyPath", "before-edit") == "first"

    config.write_text(mocks("second"))
    assert output_of(up, "HappyPath", "after-edit") == "second"
    printed(up, f"mock config: {config}: reloaded, 1 test case(s) in force")

    broken = mocks("third", case="NewCase").replace('"StatusCode": 200,', '"StatusCode": 200')  # a lost comma
    config.write_text(broken)
    assert output_of(up, "HappyPath", "after-bad-edit") == "second"  # the last good configuration
    line = next(i for i, row in enumerate(broken.splitlines(), 1) if '"Payload": "third"' in row)
    log = printed(up, f"mock config: {config}:{line}: not valid JSON: Expecting ',' delimiter")
    assert "(the last good configuration stays in force)" in log

    with pytest.raises(ClientError) as refused:
        output_of(up, "NewCase", "only-in-the-bad-edit")
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidName"
    assert error["Message"].startswith("Invalid mock test case name 'NewCase' for state machine 'orders'.")
    assert f"{config}:{line}: not valid JSON" in error["Message"]

    config.write_text(mocks("fourth", case="NewCase"))
    assert output_of(up, "NewCase", "after-the-fix") == "fourth"
    with pytest.raises(ClientError) as gone:
        output_of(up, "HappyPath", "case-removed")
    assert gone.value.response["Error"]["Code"] == "InvalidName"
