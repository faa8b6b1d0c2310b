"""The deploy's least-privilege policies: each role allows what its code calls, on this deployment's
resources, and nothing with a wildcard action or an account-wide resource beyond CreateLogGroup."""

from __future__ import annotations

import pytest

from harness.deploy import FUNCTIONS, bucket_names
from harness.iam_policies import function_statements, state_machine_statements

ACCOUNT, REGION = "123456789012", "us-east-1"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:stepbricks/databricks-token-AbCdEf"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:pipeline-notifications"
MACHINES = [f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:stepbricks-pipeline"]


def _statements(key: str) -> list[dict]:
    return function_statements(key, region=REGION, account=ACCOUNT, function_name=f"stepbricks-{key}",
                               buckets=bucket_names(""), secret_arn=SECRET, topic_arn=TOPIC,
                               state_machine_arns=MACHINES)


def _own(key: str) -> dict[str, list[str]]:
    """Action -> resources, without the log statements every function has."""
    return {action: s["Resource"] for s in _statements(key) for action in s["Action"]
            if not action.startswith("logs:")}


@pytest.mark.parametrize(("key", "expected"), [
    ("validate-file", {"s3:GetObject": ["arn:aws:s3:::stepbricks-raw/*"]}),
    ("list-files", {"s3:ListBucket": ["arn:aws:s3:::stepbricks-raw"]}),
    ("start-databricks-job", {"secretsmanager:GetSecretValue": [SECRET]}),
    ("check-databricks-job", {"secretsmanager:GetSecretValue": [SECRET]}),
    ("send-notification", {"sns:Publish": [TOPIC]}),
    ("trigger-pipeline", {"states:StartExecution": MACHINES}),
])
def test_each_function_may_call_exactly_what_its_code_calls(key, expected):
    assert _own(key) == expected


def test_a_function_added_to_the_deploy_cannot_go_without_its_policy():
    assert {key for key in FUNCTIONS if _own(key)} == set(FUNCTIONS)


def test_every_function_writes_only_its_own_log_group():
    statements = {a: s["Resource"] for s in _statements("send-notification") for a in s["Action"]}
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/stepbricks-send-notification:*"
    assert statements["logs:CreateLogStream"] == statements["logs:PutLogEvents"] == [group]


def test_no_statement_allows_every_action_or_every_resource():
    everything = [*(s for key in FUNCTIONS for s in _statements(key)),
                  *state_machine_statements(region=REGION, account=ACCOUNT, function_arns=["arn:f"],
                                            state_machine_arns=MACHINES, connection_arn="arn:c")]
    assert not [s for s in everything if any("*" in a for a in s["Action"])]
    assert not [s for s in everything if "*" in s["Resource"]]


def test_the_state_machines_may_invoke_the_pipeline_functions_and_their_versions():
    invoke = state_machine_statements(region=REGION, account=ACCOUNT, function_arns=["arn:f"],
                                      state_machine_arns=MACHINES, connection_arn="arn:c")[0]
    assert invoke["Action"] == ["lambda:InvokeFunction"] and invoke["Resource"] == ["arn:f", "arn:f:*"]


def test_the_map_variant_may_list_the_uploads_and_write_its_results_only_under_its_prefix():
    statements = {s["Sid"]: s for s in state_machine_statements(
        region=REGION, account=ACCOUNT, function_arns=["arn:f"], state_machine_arns=MACHINES, connection_arn="arn:c",
        buckets={"raw": "p-raw", "results": "p-results"})}
    assert statements["MapReadsUploads"]["Action"] == ["s3:ListBucket"]
    assert statements["MapReadsUploads"]["Resource"] == ["arn:aws:s3:::p-raw"]
    assert "s3:PutObject" in statements["MapWritesResults"]["Action"]
    assert statements["MapWritesResults"]["Resource"] == ["arn:aws:s3:::p-results/map-runs/*"]
