"""Configuration comes from environment variables only; a missing one is an error naming it."""

from __future__ import annotations

import os

from lambdas._errors import ConfigurationError


def require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def optional(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default
