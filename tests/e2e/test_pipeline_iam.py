"""The reference pipeline with IAM enforced: every Lambda runs with its execution role's temporary
credentials, the state machines call Lambda with theirs, and the deploy's least-privilege policies are
all they have (`Simulator.start(enforce_iam=True)`, `stepbricks run --enforce-iam`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.deploy import DeployConfig, Deployment, deploy
from harness.iam_policies import POLICY_NAME
from harness.runner import run_pipeline
from harness.views import failure_reason
from sim.data.generator import generate
from sim.simulator import Simulator

pytestmark = pytest.mark.e2e
FLIGHT_SECONDS = 360


@pytest.fixture(scope="module")
def enforced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Simulator, dict[str, str], Deployment]]:
    """A simulator of its own that evaluates IAM, with the pipeline deployed by its admin identity."""
    with Simulator.start(state_dir=tmp_path_factory.mktemp("iam-enforced"), enforce_iam=True) as sim:
        env = dict(sim.env)
        yield sim, env, deploy(env, DeployConfig(poll_seconds=30))
        sim.raise_background_failures()


def _events(sim: Simulator, execution_arn: str) -> list[dict[str, Any]]:
    pages = sim.aws.client("stepfunctions").get_paginator("get_execution_history").paginate(
        executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def test_the_reference_pipeline_succeeds_with_every_role_held_to_its_least_privilege_policy(enforced, tmp_path):
    sim, env, deployment = enforced
    path = tmp_path / "clean.csv"
    generate(path, rows=1000, seed=3, fmt="csv", dirty_share=0.0)

    result = run_pipeline(env, deployment, path, timeout=FLIGHT_SECONDS)

    assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
    assert result.step_output("evaluate")["gate"]["passed"] is True
    assert sim.aws.sns_messages(deployment.topic_arn), "send-notification published with its role's sns:Publish"
    iam = sim.aws.client("iam")
    for key, role_arn in deployment.roles.items():  # each role has its own policy, and only that one
        role = role_arn.rsplit("/", 1)[-1]
        assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [POLICY_NAME], key
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == [], key


def test_a_role_missing_one_permission_fails_its_state_with_aws_access_denied(enforced, tmp_path):
    sim, env, deployment = enforced
    iam = sim.aws.client("iam")
    role = deployment.roles["validate-file"].rsplit("/", 1)[-1]
    granted = iam.get_role_policy(RoleName=role, PolicyName=POLICY_NAME)["PolicyDocument"]
    without_get = {**granted, "Statement": [s for s in granted["Statement"] if s["Sid"] != "ReadUploads"]}
    assert len(without_get["Statement"]) == len(granted["Statement"]) - 1
    iam.put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(without_get))
    path = tmp_path / "denied.csv"
    generate(path, rows=50, seed=4, fmt="csv", dirty_share=0.0)
    try:
        result = run_pipeline(env, deployment, path, timeout=FLIGHT_SECONDS)
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(granted))

    assert result.trace.status == "FAILED"
    failed = [e["lambdaFunctionFailedEventDetails"] for e in _events(sim, result.execution_arn)
              if e["type"] == "LambdaFunctionFailed"]
    assert len(failed) == 1, "ValidateFile fails once (AccessDenied is not retried) and nothing else ran a Lambda"
    assert failed[0]["error"] == "AccessDenied"  # botocore's S3 model has the AccessDenied exception class
    function = deployment.functions["validate-file"].rsplit(":", 1)[-1]
    object_arn = f"arn:aws:s3:::{deployment.buckets['raw']}/incoming/{path.name}"
    assert json.loads(failed[0]["cause"])["errorMessage"] == (
        "An error occurred (AccessDenied) when calling the GetObject operation: "
        f"User: arn:aws:sts::{deployment.account}:assumed-role/{role}/{function} is not authorized to perform: "
        f's3:GetObject on resource: "{object_arn}" because no identity-based policy allows the s3:GetObject action'
    )
    visited = [v.name for v in result.trace.visits]
    assert visited[0] == "ValidateFile" and "NotifyFailure" in visited and "StartEtl" not in visited
