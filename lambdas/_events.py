"""Reading fields out of a Step Functions event, failing with InvalidInput that names the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas._errors import InvalidInput


def mapping(event: Any) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise InvalidInput(f"the event must be a JSON object, got {type(event).__name__}")
    return event


def text(event: Mapping[str, Any], field: str) -> str:
    value = event.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"field {field!r} must be a non-empty string, got {value!r}")
    return value


def integer(event: Mapping[str, Any], field: str) -> int:
    """An id: Databricks ids are int64; Step Functions passes substituted ids as strings."""
    value = event.get(field)
    if isinstance(value, bool):
        raise InvalidInput(f"field {field!r} must be an integer id, got {value!r}")
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"field {field!r} must be an integer id, got {value!r}") from None
    if number <= 0 or str(value).strip() not in (str(number), f"{number}.0"):
        raise InvalidInput(f"field {field!r} must be a positive integer id, got {value!r}")
    return number
