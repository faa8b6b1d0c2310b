"""harness.state_tester and the plugin's `test_state` fixture: a shipped machine rendered as deploy renders
it, one state sent through boto3's TestState, the answer read; no session simulator, Spark or workspace."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from asl import loader as asl_loader
from harness.deploy import DeployConfig, nominal_substitutions, state_machine_role_arn
from harness.state_tester import StateTester, TestStateResult


class RecordingClient:
    """Stands in for boto3's Step Functions client where only the request is in question."""

    def __init__(self, response: dict) -> None:
        self.response = response
        self.requests: list[dict] = []

    def test_state(self, **request: object) -> dict:
        self.requests.append(request)
        return self.response


def test_a_shipped_machine_is_rendered_with_what_a_deploy_gives():
    tester = StateTester(client=None)
    assert tester.definition("map") == tester.definition("pipeline_map") == asl_loader.render(
        "pipeline_map", nominal_substitutions())
    assert "${" not in tester.definition("http")


def test_nominal_names_follow_the_deployment_prefix_as_deploy_names_them():
    values = nominal_substitutions(DeployConfig(prefix="qa-"))
    assert values["ValidateFileFunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:qa-stepbricks-validate-file"
    assert values["ListFilesFunctionArn"].endswith(":function:qa-stepbricks-list-files")
    assert values["RawBucket"] == "qa-stepbricks-raw"
    assert values["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:qa-pipeline-notifications"
    assert state_machine_role_arn(DeployConfig(prefix="qa-")) == "arn:aws:iam::123456789012:role/qa-stepbricks-sfn-role"


def test_an_unknown_machine_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="pipeline_map"):
        StateTester(client=None).definition("no-such-machine")


def test_values_go_as_json_text_and_the_answer_comes_back_read():
    client = RecordingClient({"status": "CAUGHT_ERROR", "nextState": "NotifyFailure", "error": "E", "cause": "C",
                              "output": '{"error":{"Error":"E"}}',
                              "inspectionData": {"input": '{"a":1}', "maxConcurrency": 2,
                                                 "errorDetails": {"catchIndex": 0}},
                              "ResponseMetadata": {"HTTPStatusCode": 200}})
    result = StateTester(client)({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True},
                                 input={"a": 1}, mock={"result": {"Payload": 1}, "fieldValidationMode": "NONE"},
                                 state_configuration={"retrierRetryCount": 1}, context={"Execution": {"Name": "n"}},
                                 inspection_level="DEBUG")
    request = client.requests[0]
    assert request["input"] == '{"a":1}' and request["context"] == '{"Execution":{"Name":"n"}}'
    assert request["mock"] == {"result": '{"Payload":1}', "fieldValidationMode": "NONE"}
    assert request["stateConfiguration"] == {"retrierRetryCount": 1} and "stateName" not in request
    assert request["roleArn"] == state_machine_role_arn()
    assert result == TestStateResult(status="CAUGHT_ERROR", output={"error": {"Error": "E"}}, next_state="NotifyFailure",
                                     error="E", cause="C", inspection_data={"input": {"a": 1}, "maxConcurrency": 2,
                                                                            "errorDetails": {"catchIndex": 0}},
                                     response=result.response)
    assert result.error_details == {"catchIndex": 0}


USER_TEST = textwrap.dedent('''
    import sys

    from sim import context


    def test_one_state(test_state, request):
        result = test_state("pipeline", "IsFileValid", input={"validation": {"isValid": True}})
        assert (result.status, result.next_state) == ("SUCCEEDED", "StartEtl")
        assert "stepbricks" not in request.fixturenames and context.running() == []
        heavy = [m for m in ("pyspark", "mlflow", "fastapi", "databricks.sdk") if m in sys.modules]
        assert heavy == [], heavy
''')


def test_a_user_test_gets_the_fixture_from_the_installed_plugin_without_the_session_simulator(tmp_path):
    (tmp_path / "test_user.py").write_text(USER_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py", "-o", "addopts="],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
        env={**os.environ, "STEPBRICKS_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout



REPLAY = textwrap.dedent('''
    import sys, tempfile
    from pathlib import Path
    from harness.state_tester import state_tester_server
    from sim.aws import AwsSimulator

    role_ids = []
    with tempfile.TemporaryDirectory() as tmp, state_tester_server():
        for flight in range(2):
            with AwsSimulator.start(state_dir=Path(tmp) / str(flight), seed=3) as aws:
                role = aws.client("iam").create_role(RoleName="seeded", AssumeRolePolicyDocument="{}")["Role"]
                role_ids.append(role["RoleId"])
    print(role_ids)
    sys.exit(0 if role_ids[0] == role_ids[1] else 1)
''')


def test_a_simulator_started_beside_the_server_still_replays_its_ids():
    """The server lives for a whole session: a simulator started meanwhile must still seed moto's id stream,
    or two same-seed flights of the session would no longer draw the same ids. (A process of its own: in
    this one another simulator may already own the stream.)"""
    result = subprocess.run([sys.executable, "-c", REPLAY], capture_output=True, text=True, timeout=240, env=os.environ)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
