"""Secrets the simulator stores itself (`AwsSimulator.store_secret`: `stepbricks up`'s workspace token, where the
bundle's `local` target reads it) are Secrets Manager secrets like any other to a client.

Storing is create-or-replace, as the CLI needs at every start: CreateSecret, else PutSecretValue.
"""

from __future__ import annotations

import pytest


def test_a_stored_secret_is_read_by_boto3_and_storing_again_replaces_its_current_value(aws):
    sm = aws.client("secretsmanager")
    arn = aws.store_secret("stepbricks/spec/databricks-token", "dapi-first", description="the spec's token")
    described = sm.describe_secret(SecretId="stepbricks/spec/databricks-token")
    assert (described["ARN"], described["Name"], described["Description"]) == (
        arn, "stepbricks/spec/databricks-token", "the spec's token")
    assert arn.startswith(f"arn:aws:secretsmanager:us-east-1:{aws.account_id}:secret:stepbricks/spec/databricks-token-")
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "dapi-first"

    assert aws.store_secret("stepbricks/spec/databricks-token", "dapi-second") == arn
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "dapi-second"
    versions = sm.list_secret_version_ids(SecretId=arn)["Versions"]
    assert sorted(v["VersionStages"] for v in versions) == [["AWSCURRENT"], ["AWSPREVIOUS"]]


def test_a_name_secrets_manager_refuses_is_refused_when_the_simulator_stores_it_too(aws):
    with pytest.raises(ValueError, match=r"refuses secret 'a name with spaces': ValidationException: Invalid name"):
        aws.store_secret("a name with spaces", "x")
