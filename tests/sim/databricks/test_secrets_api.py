"""Secrets API through databricks-sdk: scopes, put/get/list/delete, values base64 on get."""

from __future__ import annotations

import base64

import pytest


def test_secret_round_trip_returns_base64_value(client) -> None:
    client.secrets.create_scope("round-trip")
    client.secrets.put_secret("round-trip", "token", string_value="s3cr3t")
    client.secrets.put_secret("round-trip", "blob", bytes_value=base64.b64encode(b"\x00\x01").decode())
    assert base64.b64decode(client.secrets.get_secret("round-trip", "token").value) == b"s3cr3t"
    assert base64.b64decode(client.secrets.get_secret("round-trip", "blob").value) == b"\x00\x01"
    assert sorted(s.key for s in client.secrets.list_secrets("round-trip")) == ["blob", "token"]
    assert "round-trip" in [s.name for s in client.secrets.list_scopes()]
    client.secrets.delete_secret("round-trip", "blob")
    assert [s.key for s in client.secrets.list_secrets("round-trip")] == ["token"]


def test_duplicate_scope_and_missing_secret_errors(client) -> None:
    from databricks.sdk.errors import ResourceAlreadyExists, ResourceDoesNotExist

    client.secrets.create_scope("dup")
    with pytest.raises(ResourceAlreadyExists):
        client.secrets.create_scope("dup")
    with pytest.raises(ResourceDoesNotExist):
        client.secrets.get_secret("dup", "nope")
    client.secrets.delete_scope("dup")
    with pytest.raises(ResourceDoesNotExist, match="Scope dup does not exist"):
        client.secrets.list_secrets("dup")
