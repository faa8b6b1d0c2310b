"""Secrets from AWS Secrets Manager, fetched once per container (warm invocations reuse them)."""

from __future__ import annotations

import boto3

_cache: dict[str, str] = {}


def get_secret_string(secret_id: str) -> str:
    """The SecretString of `secret_id`. The value is never logged nor put in an error message."""
    if secret_id not in _cache:
        response = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)
        _cache[secret_id] = response["SecretString"]
    return _cache[secret_id]


def clear_cache() -> None:
    """Forget cached secrets (a rotated token; tests)."""
    _cache.clear()
