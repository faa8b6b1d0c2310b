"""DynamoDB answers as AWS gives them, where moto's differ. Registered with `core.register` at import."""

from __future__ import annotations

from typing import Any

from moto.dynamodb.responses import DynamoHandler

from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ORIGINAL_UPDATE_ITEM = DynamoHandler.update_item


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
    [(DynamoHandler, "update_item", _update_item)],
    [Seam(DynamoHandler, "update_item", ("self",), _update_item.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_optimised_integrations.py::test_dynamodb_update_item_reports_consumed_capacity_only_when_asked")],
)
