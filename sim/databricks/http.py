"""Request parsing shared by every route module, forgiving where real clients are sloppy.

JSON bodies are read whatever the Content-Type (the legacy CLI sends `text/json`); query booleans are
case-insensitive (Airflow sends `True`); an empty `page_token=` means no token. Validation errors name
the field, in the workspace's `INVALID_PARAMETER_VALUE` shape.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.databricks.errors import InvalidParameterValue, MalformedRequest

M = TypeVar("M", bound=BaseModel)


class ApiModel(BaseModel):
    """Request bodies: unknown fields are kept (clients send more than the fake needs)."""

    model_config = ConfigDict(extra="allow")


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise MalformedRequest(f"Could not parse request object: {e.args[0] if e.args else e}") from None
    if not isinstance(body, dict):
        raise MalformedRequest("Could not parse request object: expected a JSON object.")
    return body


def parse(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as e:
        raise InvalidParameterValue(describe_validation_errors(e.errors())) from None


def describe_validation_errors(errors: Any) -> str:
    """One message naming the first bad field, as a workspace reports one problem at a time."""
    error = next(iter(errors))
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query")]
    field = ".".join(loc) or "request"
    if error.get("type") == "missing":
        return f"Missing required field: {field}"
    return f"Invalid value for field '{field}': {error.get('msg', 'invalid')}."


_TRUE = {"true", "1", "yes", "t", "y", "on"}
_FALSE = {"false", "0", "no", "f", "n", "off", ""}


def query_bool(value: str | None, name: str, default: bool = False) -> bool:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidParameterValue(f"Invalid value for parameter '{name}': expected a boolean, got '{value}'.")


def query_int(value: str | None, name: str, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidParameterValue(f"Invalid value for parameter '{name}': expected an integer, got '{value}'.") from None


def query_token(value: str | None) -> str | None:
    return value or None
