"""The local workspace's token in Secrets Manager, where the bundle's `local` target reads it (seed 004).

`stepbricks up` stores it at every start; the secret may already be there (a `stepbricks up` against a
longer-lived AWS endpoint, a second `up` on the same external moto), so storing is create-or-replace.
"""

from __future__ import annotations

from harness.bundles.auth import read_token, store_local_token
from harness.clients import aws_client


def test_the_first_store_creates_the_secret_and_a_second_replaces_its_value_under_the_same_arn(bundle_aws):
    secret = "stepbricks/auth-spec/databricks-token"
    first = store_local_token(bundle_aws.env, "dapi-first", secret=secret)
    described = aws_client("secretsmanager", bundle_aws.env).describe_secret(SecretId=secret)
    assert described["ARN"] == first
    assert described["Description"] == "The local fake workspace's token (stepbricks up)"
    assert read_token(secret, "local", bundle_aws.env) == "dapi-first"

    assert store_local_token(bundle_aws.env, "dapi-second", secret=secret) == first
    assert read_token(secret, "local", bundle_aws.env) == "dapi-second"
