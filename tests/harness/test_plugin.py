"""The pytest plugin: a fresh fault plan per test, the virtual clock, and a report for a failing test."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
