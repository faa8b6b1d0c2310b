"""The pytest plugin: a fresh fault plan per test, the virtual clock, and a report for a failing test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from sim.simulator import Simulator
from tests.harness.executions import run_to_end


def test_the_fault_plan_fixture_is_active_for_the_test_only(stepbricks, small_machine, fault_plan):
    fault_plan.add("state", "harness-small", detail="CallFlaky", error={"Error": "Boom", "Cause": "injected"})

    arn = run_to_end(stepbricks, small_machine["arn"], {"key": "plugin-fault"}, "plugin-fault")

    status = stepbricks.client("stepfunctions").describe_execution(executionArn=arn)["status"]
    assert status == "FAILED"
    assert [a.target for a in fault_plan.applied] == ["state:harness-small/CallFlaky"]


def test_faults_of_an_earlier_test_do_not_leak(stepbricks, small_machine):
    arn = run_to_end(stepbricks, small_machine["arn"], {"key": "plugin-no-fault"}, "plugin-no-fault")
    assert stepbricks.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "SUCCEEDED"


@pytest.fixture(scope="module")
def simulator_started_later(stepbricks):
    """Another simulator of the process, newer than the session's (and bound to the thread that started
    it): without the plugin's binding, the test's faults would be installed in it."""
    stepbricks.require_simulator("a second simulator beside the session's")
    with Simulator.start(databricks=False, warm_cluster=False) as later:
        yield later


def test_the_fault_plan_reaches_the_sessions_simulator_when_a_newer_one_runs(
        stepbricks, small_machine, simulator_started_later, fault_plan):
    fault_plan.add("state", "harness-small", detail="CallFlaky", error={"Error": "Boom", "Cause": "injected"})

    arn = run_to_end(stepbricks, small_machine["arn"], {"key": "plugin-fault-beside"}, "plugin-fault-beside")

    assert stepbricks.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "FAILED"
    assert stepbricks.faults() is fault_plan
    assert simulator_started_later.context.faults is not fault_plan


def test_the_virtual_clock_fixture_skips_time(virtual_clock):
    before = virtual_clock.now()
    virtual_clock.advance(3600)
    assert virtual_clock.now() - before >= 3600


FAILING_TEST = textwrap.dedent('''
        import json

        def test_fails_after_an_execution(stepbricks):
            sfn, iam = stepbricks.client("stepfunctions"), stepbricks.client("iam")
            role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
            arn = sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
            sfn.start_execution(stateMachineArn=arn, name="will-be-reported")
            assert False, "deliberately failing"
''')


def test_a_failing_test_that_flew_an_execution_gets_its_report(tmp_path):
    test_file = tmp_path / "test_fails.py"
    test_file.write_text(FAILING_TEST)
    home = tmp_path / "home"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "-o", "addopts="],
        capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "STEPBRICKS_HOME": str(home)},
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "stepbricks reports" in result.stdout
    reports = list(home.glob("reports/tests/*/will-be-reported.html"))
    assert len(reports) == 1


COVERED_TEST = textwrap.dedent('''
        import json
        import time

        def test_flies_one_branch_of_a_choice(stepbricks):
            sfn, iam = stepbricks.client("stepfunctions"), stepbricks.client("iam")
            role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            definition = {"StartAt": "Route", "States": {
                "Route": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Left"}],
                          "Default": "Right"},
                "Left": {"Type": "Pass", "End": True},
                "Right": {"Type": "Pass", "End": True}}}
            arn = sfn.create_state_machine(name="half", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
            execution = sfn.start_execution(stateMachineArn=arn, name="left", input=json.dumps({"go": True}))
            deadline = time.monotonic() + 60
            while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
                assert time.monotonic() < deadline, "the execution still RUNNING after 60 s"
                time.sleep(0.05)
''')


def _pytest_with_coverage(tmp_path, *options: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_covered.py"
    test_file.write_text(COVERED_TEST)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "-o", "addopts=", *options],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
        env={**__import__("os").environ, "STEPBRICKS_HOME": str(tmp_path / "home")},
    )


def test_asl_cov_json_writes_each_machines_coverage_and_fail_under_above_it_fails_the_session(tmp_path):
    out = tmp_path / "coverage.json"

    result = _pytest_with_coverage(tmp_path, f"--asl-cov-json={out}", "--asl-cov-fail-under=75")

    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 passed" in result.stdout, "the session fails on coverage alone, not on a test"
    assert "FAIL: state machine edge coverage 50.0% is under --asl-cov-fail-under=75.0%" in result.stdout
    assert json.loads(out.read_text()) == {"total_edge_percent": 50.0, "state_machines": {"half": {
        "executions": 1,
        "states": {"covered": 2, "total": 3},
        "edges": {"covered": 1, "total": 2},
        "state_percent": 66.7,
        "edge_percent": 50.0,
        "missed_edges": ["Route -[default]-> Right"],
        "missed_states": ["Right"],
    }}}


def test_asl_cov_fail_under_at_or_below_the_coverage_passes_the_session(tmp_path):
    result = _pytest_with_coverage(tmp_path, "--asl-cov-fail-under=50")

    assert result.returncode == 0, result.stdout[-3000:]
    assert "state machine coverage (stepbricks)" in result.stdout
    assert "FAIL: state machine edge coverage" not in result.stdout


BACKGROUND_FAILURE = textwrap.dedent('''
        from sim import context

        def test_starts_background_work_that_fails(stepbricks):
            stepbricks.require_simulator("the error sink")
            worker = context.Thread(target=lambda: 1 / 0, name="scheduler")
            worker.start()
            worker.join()

        def test_the_next_test_is_not_blamed(stepbricks):
            pass
''')


def test_a_background_failure_fails_the_test_that_started_the_work(tmp_path):
    test_file = tmp_path / "test_background.py"
    test_file.write_text(BACKGROUND_FAILURE)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "-o", "addopts=", "-rE"],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "STEPBRICKS_HOME": str(tmp_path / "home")}, cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "2 passed, 1 error" in result.stdout, result.stdout[-2000:]
    assert "ERROR at teardown of test_starts_background_work_that_fails" in result.stdout
    assert "BackgroundFailure" in result.stdout and "ZeroDivisionError" in result.stdout


ENFORCED_TEST = textwrap.dedent('''
        import json

        import pytest
        from botocore.exceptions import ClientError

        def test_a_role_without_permissions_is_refused(stepbricks):
            iam = stepbricks.client("iam")
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                     "Principal": {"Service": "lambda.amazonaws.com"}}]}
            role = iam.create_role(RoleName="bare", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            from sim.aws.moto_seams.iam import assume_role
            creds = assume_role(role, "probe")
            import boto3
            sns = boto3.client("sns", endpoint_url=stepbricks.env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                               aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                               aws_session_token=creds["AWS_SESSION_TOKEN"])
            with pytest.raises(ClientError) as refused:
                sns.list_topics()
            assert refused.value.response["Error"]["Code"] == "AuthorizationError"
''')


def test_the_enforce_iam_option_makes_the_sessions_simulator_evaluate_policies(tmp_path):
    test_file = tmp_path / "test_enforced.py"
    test_file.write_text(ENFORCED_TEST)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "-o", "addopts="]
    env = {**__import__("os").environ, "STEPBRICKS_HOME": str(tmp_path / "home")}
    enforced = subprocess.run([*command, "--stepbricks-enforce-iam"], capture_output=True, text=True, timeout=300,
                              env=env, cwd=tmp_path)
    assert enforced.returncode == 0, enforced.stdout[-2000:]
    allowed = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert allowed.returncode == 1 and "DID NOT RAISE" in allowed.stdout, allowed.stdout[-2000:]


BACKEND_TEST = textwrap.dedent('''
        def test_the_workspace_runs_its_clusters_where_the_option_says(stepbricks):
            pool = stepbricks.simulator.databricks.backend.compute()
            assert (pool.backend.name, pool.backend.url) == ("standalone", "spark://127.0.0.1:1")
            assert stepbricks.simulator.mlflow_tracking_uri == "http://127.0.0.1:2"
            assert stepbricks.env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:2"
''')


def test_the_spark_and_mlflow_options_configure_the_session_simulator(tmp_path):
    """--stepbricks-spark / --stepbricks-mlflow reach the workspace (nothing listens there: no task runs)."""
    test_file = tmp_path / "test_backend_option.py"
    test_file.write_text(BACKEND_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "-o", "addopts=",
         "--stepbricks-spark=spark://127.0.0.1:1", "--stepbricks-mlflow=http://127.0.0.1:2"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**__import__("os").environ, "STEPBRICKS_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stdout[-3000:]
