"""TestState's check of a mocked Task result against the API it stands in for (`mock.fieldValidationMode`).

AWS validates `mock.result` against the output shape of the integration's API (developer guide, "Using
TestState API to test a state": mocking): STRICT (the default) checks every field's type, enum, range and
length and that required fields are present; PRESENT checks only the fields given; NONE checks nothing.
Fields the API does not have are accepted. Field names are the API's with the first letter upper-cased,
as Step Functions' integrations return them (`ExecutionArn`, not `executionArn`). The wordings, recorded
against AWS in LocalStack's tests/aws/services/stepfunctions/v2/test_state/test_field_validation_mode*.snapshot.json:

    Mock result schema validation error: Field 'Entries' must be an array
    Mock result schema validation error: Required field 'ExecutionArn' is missing
    Mock result schema validation error: Field 'StorageClass' is not an expected value
    Mock result schema validation error: Field 'MemorySize' is less than the minimum value
    Mock result schema validation error: Field 'CiphertextBlob' is smaller than the minimum length

The API's shape comes from botocore's service models.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

__all__ = ["mock_result_error"]

_SERVICES = {"states": "stepfunctions", "sfn": "stepfunctions", "eventbridge": "events"}
_OPTIMISED = re.compile(r"^arn:[\w-]+:states:::(?P<service>[\w-]+):(?P<action>\w+)(?P<pattern>\.\w+)?(:\d+)?$")
_AWS_SDK = re.compile(r"^arn:[\w-]+:states:::aws-sdk:(?P<service>[\w-]+):(?P<action>\w+)(\.\w+)?$")
_NUMBERS = ("integer", "long", "float", "double")


@functools.cache
def _output_shape(service: str, operation: str) -> Shape | None:
    try:
        return botocore.session.get_session().get_service_model(service).operation_model(operation).output_shape
    except Exception:  # an API botocore does not know: nothing to check against
        return None


def _api_of(resource: str) -> tuple[str, str, bool] | None:
    """(botocore service, operation, whether it is an optimised integration) of a Task's resource."""
    sdk = _AWS_SDK.match(resource)
    if sdk:
        service = sdk["service"]
        return _SERVICES.get(service, service), sdk["action"][:1].upper() + sdk["action"][1:], False
    optimised = _OPTIMISED.match(resource)
    if not optimised:
        return None
    service, action = _SERVICES.get(optimised["service"], optimised["service"]), optimised["action"]
    if optimised["pattern"] == ".sync":
        if service != "stepfunctions":
            return None  # the .sync results of other services are Step Functions' own shapes
        action = "describeExecution"
    return service, action[:1].upper() + action[1:], True


def _field(name: str) -> str:
    return name[:1].upper() + name[1:]


def _type_error(value: Any, shape: Shape) -> str | None:
    kind = shape.type_name
    if kind in ("string", "timestamp", "blob") and not isinstance(value, str):
        return "must be a string"
    if kind in _NUMBERS and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "must be a number"
    if kind == "boolean" and not isinstance(value, bool):
        return "must be a boolean"
    if kind == "list" and not isinstance(value, list):
        return "must be an array"
    if kind in ("structure", "map") and not isinstance(value, dict):
        return "must be an object"
    return None


def _constraint_error(value: Any, shape: Shape) -> str | None:
    meta = shape.metadata
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        return "is not an expected value"
    if shape.type_name in _NUMBERS:
        if "min" in meta and value < meta["min"]:
            return "is less than the minimum value"
        if "max" in meta and value > meta["max"]:
            return "exceeds the maximum value"
    if shape.type_name in ("string", "blob", "list", "map"):
        if "min" in meta and len(value) < meta["min"]:
            return "is smaller than the minimum length"
        if "max" in meta and len(value) > meta["max"]:
            return "exceeds the maximum length"
    return None


def _check(value: Any, shape: Shape, name: str, strict: bool) -> str | None:
    problem = _type_error(value, shape) or _constraint_error(value, shape)
    if problem:
        return f"Field '{name}' {problem}"
    if isinstance(shape, StructureShape):
        return _check_structure(value, shape, strict)
    if isinstance(shape, ListShape):
        return next((p for item in value if (p := _check(item, shape.member, name, strict))), None)
    if isinstance(shape, MapShape):
        return next((p for item in value.values() if (p := _check(item, shape.value, name, strict))), None)
    return None


def _check_structure(value: dict[str, Any], shape: StructureShape, strict: bool) -> str | None:
    for member_name, member in shape.members.items():
        name = _field(member_name)
        if name not in value:
            if strict and member_name in shape.required_members:
                return f"Required field '{name}' is missing"
            continue
        problem = _check(value[name], member, name, strict)
        if problem:
            return problem
    return None


def mock_result_error(resource: str, result: Any, mode: str | None) -> str | None:
    """Why AWS refuses `result` as the mocked result of a Task on `resource`, or None."""
    mode = (mode or "STRICT").upper()
    api = _api_of(resource) if isinstance(resource, str) else None
    if mode == "NONE" or api is None:
        return None
    shape = _output_shape(api[0], api[1])
    if not isinstance(shape, StructureShape) or not isinstance(result, dict):
        return None
    if api[2] and api[:2] == ("lambda", "Invoke"):
        # Step Functions returns the function's Payload as JSON, not the API's blob.
        result = {k: v for k, v in result.items() if k != "Payload"}
    problem = _check_structure(result, shape, strict=mode == "STRICT")
    return f"Mock result schema validation error: {problem}" if problem else None
