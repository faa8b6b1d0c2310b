"""The model constraints AWS checks on every Step Functions request, read from botocore's service model.

AWS (its Coral front end) refuses a request whose members break the model's `min`/`max` (length of a
string or list, value of a number), `pattern` or `enum` with a 400 `ValidationException` before any
business logic runs, in one message for all violations:

    1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must
    have value less than or equal to 1000
    2 validation errors detected: Value ... ; Value ...

(wordings recorded against AWS in LocalStack's tests/aws/services/stepfunctions/v2/test_sfn_api*.snapshot.json).
A member inside a list is addressed as `routingConfiguration.1.member.weight` (1-based); a structure
value is shown as Java prints it, `[RoutingConfigurationListItem(stateMachineVersionArn=..., weight=50)]`;
a sensitive member's value is left out ("Value at 'input' failed ..."). botocore validates `min` on the
client, so these mostly answer `max`, `pattern` and `enum`; the check is here so any client gets AWS's answer.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

__all__ = ["constraint_violations", "validation_message"]

# The enum value sets as AWS lists them in its messages (a Java set's order, not the model's), where recorded.
_AWS_ENUM_ORDER: dict[str, tuple[str, ...]] = {
    # test_sfn_api.snapshot.json, test_state_machine_status_filter
    "ExecutionStatus": ("SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING"),
}


@functools.cache
def _model() -> Any:
    return botocore.session.get_session().get_service_model("stepfunctions")


@functools.cache
def _operation(name: str) -> OperationModel | None:
    try:
        return _model().operation_model(name)
    except Exception:  # an action the model does not know: nothing to check
        return None


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    """The model's Java regex in Python; `\\p{ASCII}` is the only Java-only class Step Functions uses."""
    try:
        return re.compile(text.replace(r"\p{ASCII}", r"[\x00-\x7f]"))
    except re.error:
        return None


def _java(value: Any, shape: Shape) -> str:
    """The value as AWS's Java service prints it in a message."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        fields = ", ".join(f"{k}={_java(value[k], shape.members[k])}" for k in shape.members if k in value)
        return f"{shape.name}({fields})"
    if isinstance(shape, ListShape) and isinstance(value, list):
        return "[" + ", ".join(_java(v, shape.member) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _violation(path: str, value: Any, shape: Shape, constraint: str) -> str:
    if shape.metadata.get("sensitive"):
        return f"Value at '{path}' failed to satisfy constraint: {constraint}"
    return f"Value '{_java(value, shape)}' at '{path}' failed to satisfy constraint: {constraint}"


def _check(value: Any, shape: Shape, path: str, found: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind in ("string", "list", "map", "blob") and isinstance(value, str | list | dict | bytes):
        if "max" in meta and len(value) > meta["max"]:
            found.append(_violation(path, value, shape, f"Member must have length less than or equal to {meta['max']}"))
        if "min" in meta and len(value) < meta["min"]:
            found.append(_violation(path, value, shape, f"Member must have length greater than or equal to {meta['min']}"))
    if kind == "string" and isinstance(value, str):
        enum = shape.enum
        if enum and value not in enum:
            listed = ", ".join(_AWS_ENUM_ORDER.get(shape.name, tuple(enum)))
            found.append(_violation(path, value, shape, f"Member must satisfy enum value set: [{listed}]"))
        pattern = meta.get("pattern")
        compiled = _pattern(pattern) if pattern else None
        if compiled is not None and value and not compiled.fullmatch(value):
            found.append(_violation(path, value, shape, f"Member must satisfy regular expression pattern: {pattern}"))
    if kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "max" in meta and value > meta["max"]:
            found.append(_violation(path, value, shape, f"Member must have value less than or equal to {meta['max']}"))
        if "min" in meta and value < meta["min"]:
            found.append(_violation(path, value, shape, f"Member must have value greater than or equal to {meta['min']}"))
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        _check_members(value, shape, f"{path}.", found)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for i, item in enumerate(value, start=1):
            _check(item, shape.member, f"{path}.{i}.member", found)
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, item in value.items():
            _check(item, shape.value, f"{path}.{key}", found)


def _check_members(params: dict[str, Any], shape: StructureShape, prefix: str, found: list[str]) -> None:
    for name, member in shape.members.items():
        value = params.get(name)
        if value is None:
            if name in shape.required_members:
                found.append(f"Value null at '{prefix}{name}' failed to satisfy constraint: Member must not be null")
            continue
        _check(value, member, f"{prefix}{name}", found)


def constraint_violations(operation: str, params: dict[str, Any]) -> list[str]:
    """Every model constraint `params` (the request's JSON body) breaks, in AWS's words, in member order."""
    model = _operation(operation)
    found: list[str] = []
    if model is not None and model.input_shape is not None and isinstance(params, dict):
        _check_members(params, model.input_shape, "", found)
    return found


def validation_message(violations: list[str]) -> str:
    """AWS's ValidationException message for `violations` (non-empty)."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(violations)
