"""DynamoDB answers as AWS gives them, where moto's differ. Registered with `core.register` at import."""

from __future__ import annotations

import re
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.responses import DynamoHandler
from moto.utilities.aws_headers import amz_crc32

from sim.aws.moto_seams.core import Seam, register

__all__ = ["table_name_violations"]

_ORIGINAL_UPDATE_ITEM = DynamoHandler.update_item
_ORIGINAL_CALL_ACTION = DynamoHandler.call_action
# botocore's dynamodb model, shape TableName: pattern [a-zA-Z0-9_.-]+, length 3..255. Actions that also
# take a table ARN (shape TableArn) accept `arn:...` in the same member.
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_TABLE_NAME_MIN, _TABLE_NAME_MAX = 3, 255


def table_name_violations(name: str) -> list[str]:
    """The constraints a `TableName` breaks, in AWS's wording (an ARN is checked by the service later)."""
    if name.startswith("arn:"):
        return []
    found = []
    if not _TABLE_NAME.fullmatch(name):
        found.append(f"Value '{name}' at 'tableName' failed to satisfy constraint: "
                     "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    if len(name) < _TABLE_NAME_MIN:
        found.append(f"Value '{name}' at 'tableName' failed to satisfy constraint: "
                     f"Member must have length greater than or equal to {_TABLE_NAME_MIN}")
    elif len(name) > _TABLE_NAME_MAX:
        found.append(f"Value '{name}' at 'tableName' failed to satisfy constraint: "
                     f"Member must have length less than or equal to {_TABLE_NAME_MAX}")
    return found


def _call_action(self: DynamoHandler) -> Any:
    """Wraps `DynamoHandler.call_action`.

    Restores: a `TableName` outside [a-zA-Z0-9_.-]+ or 3..255 characters is refused with AWS's
    ValidationException, "1 validation error detected: Value '/t' at 'tableName' failed to satisfy
    constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" (recorded on AWS through
    Step Functions: LocalStack's v2/error_handling/test_task_service_dynamodb.snapshot.json,
    test_put_item_invalid_table_name); moto looked the name up and answered ResourceNotFoundException.
    """
    name = getattr(self, "params", {}).get("TableName")
    violations = table_name_violations(name) if isinstance(name, str) else []
    if violations:
        count = len(violations)
        error: JsonRESTError = MockValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(violations)}")
        return _refusal(self, error)
    return _ORIGINAL_CALL_ACTION(self)


@amz_crc32
def _refusal(handler: DynamoHandler, error: JsonRESTError) -> Any:
    """The error as moto answers one (request id and CRC32 headers included)."""
    headers, body = handler._enrich_response(dict(error.get_headers() or []), error.get_body())
    return error.code, headers, body


def _update_item(self: DynamoHandler) -> Any:
    """Wraps `DynamoHandler.update_item`.

    Restores: UpdateItem reports `ConsumedCapacity` only when the request asks for it
    (`ReturnConsumedCapacity: TOTAL | INDEXES`, API reference), as every other write does; moto always
    added `{"TableName": …, "CapacityUnits": 0.5}` (seen in Step Functions results recorded on AWS, which
    have none).
    """
    result = _ORIGINAL_UPDATE_ITEM(self)
    if self.body.get("ReturnConsumedCapacity", "NONE") == "NONE" and isinstance(result.result, dict):
        result.result.pop("ConsumedCapacity", None)
    return result


register(
    [(DynamoHandler, "update_item", _update_item), (DynamoHandler, "call_action", _call_action)],
    [Seam(DynamoHandler, "call_action", ("self",), _call_action.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_optimised_integrations.py::test_dynamodb_invalid_table_name_fails_the_task_with_the_validation_message"),
     Seam(DynamoHandler, "update_item", ("self",), _update_item.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_optimised_integrations.py::test_dynamodb_update_item_reports_consumed_capacity_only_when_asked")],
)
