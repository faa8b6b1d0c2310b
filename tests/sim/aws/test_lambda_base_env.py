"""`AwsSimulator.start(lambda_env=...)`: the public way to give every Lambda function extra endpoints
(docker/serve.py routes functions to LocalStack and Step Functions Local this way)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.aws import AwsSimulator, moto_seams

ECHO_ENV = """
import os

def handler(event, context):
    return {name: os.environ.get(name) for name in event["names"]}
"""
ROUTES = {
    "AWS_ENDPOINT_URL_SNS": "http://127.0.0.1:9",
    "STEPBRICKS_ROUTE_MARKER": "from-lambda-env",
    "AWS_REGION": "eu-west-9",  # reserved: Lambda sets it from the function's region whatever the base says
}


def _beside(aws: AwsSimulator) -> str:
    """An account of its own for a simulator started beside the session one, as `sim.Simulator` gives
    each: both seed moto's ids alike, so in one account the second's first IAM role would get the same
    role id as the session's role and replace it."""
    account = int(aws.account_id) + 1
    while str(account) in moto_seams.accounts_in_use():
        account += 1
    return str(account)


def _echo_function(sim: AwsSimulator, build_zip: Callable[[dict[str, str]], bytes], env: dict[str, str]) -> str:
    role = sim.client("iam").create_role(
        RoleName="lambda-base-env", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
    )["Role"]["Arn"]
    sim.client("lambda").create_function(
        FunctionName="echo-base-env", Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": build_zip({"app.py": ECHO_ENV})}, Timeout=10, Environment={"Variables": env},
    )
    return "echo-base-env"


def _seen(sim: AwsSimulator, name: str, names: list[str]) -> dict[str, Any]:
    result = sim.invoke(name, {"names": names})
    assert result["FunctionError"] is None, result["Payload"]
    return result["Payload"]


def test_lambda_env_reaches_every_function_under_its_own_environment_and_the_reserved_variables(
        aws: AwsSimulator, build_zip, tmp_path: Path):
    # A second simulator in the process handles invocations while it runs (sim/aws/simulator.py docstring).
    with AwsSimulator.start(state_dir=tmp_path, lambda_env=ROUTES, account_id=_beside(aws)) as routed:
        name = _echo_function(routed, build_zip, {"STEPBRICKS_ROUTE_MARKER": "function-wins"})
        seen = _seen(routed, name, ["AWS_ENDPOINT_URL_SNS", "STEPBRICKS_ROUTE_MARKER", "AWS_REGION",
                                    "AWS_ENDPOINT_URL"])
        routed.client("lambda").delete_function(FunctionName=name)
        routed.client("iam").delete_role(RoleName="lambda-base-env")
    assert seen == {
        "AWS_ENDPOINT_URL_SNS": "http://127.0.0.1:9",
        "STEPBRICKS_ROUTE_MARKER": "function-wins",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": routed.endpoint,  # keys lambda_env does not name keep the simulator's own
    }


def test_lambda_env_overrides_the_simulator_endpoint_but_not_the_simulator_env(
        aws: AwsSimulator, build_zip, tmp_path: Path):
    elsewhere = "http://127.0.0.1:4566"
    with AwsSimulator.start(state_dir=tmp_path, lambda_env={"AWS_ENDPOINT_URL": elsewhere},
                            account_id=_beside(aws)) as routed:
        name = _echo_function(routed, build_zip, {})
        seen = _seen(routed, name, ["AWS_ENDPOINT_URL"])
        routed.client("lambda").delete_function(FunctionName=name)
        routed.client("iam").delete_role(RoleName="lambda-base-env")
        assert routed.env["AWS_ENDPOINT_URL"] == routed.endpoint  # what clients of the simulator use
    assert seen == {"AWS_ENDPOINT_URL": elsewhere}


def test_without_lambda_env_functions_see_the_simulator_endpoint(aws: AwsSimulator, make_function):
    name = make_function(ECHO_ENV)
    assert _seen(aws, name, ["AWS_ENDPOINT_URL", "STEPBRICKS_ROUTE_MARKER"]) == {
        "AWS_ENDPOINT_URL": aws.endpoint,
        "STEPBRICKS_ROUTE_MARKER": None,
    }


def test_a_simulator_started_beside_another_does_not_take_its_invocations(
        aws: AwsSimulator, build_zip, tmp_path: Path):
    """A request is served by the simulator whose port received it (`moto_seams.core.serving`), not by the
    newest one of the thread's context: both run in the test's context here, and the session simulator's
    invocations used to run in the newer one's Lambda runtime, under its `lambda_env`."""
    with AwsSimulator.start(state_dir=tmp_path, lambda_env=ROUTES, account_id=_beside(aws)) as newer:
        name = _echo_function(aws, build_zip, {})
        try:
            seen = _seen(aws, name, ["AWS_ENDPOINT_URL_SNS", "STEPBRICKS_ROUTE_MARKER", "AWS_ENDPOINT_URL"])
        finally:
            aws.client("lambda").delete_function(FunctionName=name)
            aws.client("iam").delete_role(RoleName="lambda-base-env")
        assert newer.lambda_logs(name) == []
    assert seen == {"AWS_ENDPOINT_URL_SNS": None, "STEPBRICKS_ROUTE_MARKER": None, "AWS_ENDPOINT_URL": aws.endpoint}
    assert any("START" in line for line in aws.lambda_logs(name))
