"""Secrets Manager refuses secret names AWS refuses (sim/aws/moto_seams/secretsmanager.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def test_secret_name_with_a_space_is_a_validation_exception(aws):
    with pytest.raises(ClientError) as raised:
        aws.client("secretsmanager").create_secret(Name="Invalid Name", SecretString="HelloWorld")
    assert (raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]) == (
        "ValidationException",
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")


def test_secret_names_with_the_allowed_characters_are_created(aws):
    client = aws.client("secretsmanager")
    for name in ("stepbricks/db-pass_1+x=y.z@w", "events!connection/c/0000/auth"):
        assert client.create_secret(Name=name, SecretString="s")["Name"] == name
