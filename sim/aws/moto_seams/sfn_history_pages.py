"""GetExecutionHistory in pages, newest first on request, with or without the execution's data.

AWS (API reference, GetExecutionHistory): `maxResults` events per call ("The default is 100 and the maximum
allowed page size is 1000. A value of 0 uses the default"), a `nextToken` while more remain, `reverseOrder`
("Lists events in descending order of their timeStamp") and `includeExecutionData` ("whether execution data
(input or output of a history event) is returned. The default is true"). moto ignored all four and sent the
whole history in one answer, so a client paging it (botocore's paginator) could not be shown to page, and a
client following a running execution re-read, and the server re-serialised, every event on every poll: the
harness's progress view polls twice a second, and serialising histories was the largest single cost of the
suite's Step Functions requests (py-spy).

A token names the id of the next event to return, so it stays valid while the running execution appends
events: paging forward reaches the new ones, paging back never repeats one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.responses import StepFunctionResponse

from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_versions import (
    _DEFAULT_PAGE as DEFAULT_PAGE,  # AWS's page size for every List/Get
)
from sim.aws.moto_seams.sfn_versions import InvalidToken

__all__ = ["DEFAULT_PAGE"]

_ORIGINAL = StepFunctionResponse.get_execution_history


def _token(event_id: int, reverse: bool) -> str:
    return base64.urlsafe_b64encode(json.dumps({"next": event_id, "reverse": reverse}).encode()).decode()


def _position(token: str, reverse: bool) -> int:
    try:
        found = json.loads(base64.urlsafe_b64decode(token.encode()))
        if found["reverse"] is not reverse:
            raise ValueError("the token was issued for the other order")
        return int(found["next"])
    except (ValueError, TypeError, KeyError):
        raise InvalidToken(f"Invalid Token: '{token}'") from None


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its details' execution data removed by the interpreter's own rule for a logging
    configuration's `includeExecutionData: false` (input, inputDetails, output, outputDetails)."""
    stripped = dict(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            stripped[key] = dict(value)
            EventManager._remove_data_from_history_log(details_body=stripped[key])
    return stripped


def _get_execution_history(self: StepFunctionResponse) -> ActionResult:
    """Wraps `StepFunctionResponse.get_execution_history` (moto's answer: every event, oldest first).

    Restores: a page of `maxResults` events (0 or none: 100) from `nextToken`, newest first with
    `reverseOrder`, without inputs and outputs when `includeExecutionData` is false, and `nextToken` when
    more remain; a token that is not one of ours is InvalidToken (400)."""
    answer = _ORIGINAL(self)
    events: list[dict[str, Any]] = list(answer.result["events"])  # type: ignore[index]
    size = int(self._get_param("maxResults") or 0) or DEFAULT_PAGE
    reverse = bool(self._get_param("reverseOrder", False))
    token = self._get_param("nextToken")
    if reverse:
        events.reverse()
    if token is not None:
        start = _position(token, reverse)
        events = [e for e in events if (e["id"] <= start if reverse else e["id"] >= start)]
    page, rest = events[:size], events[size:size + 1]
    if self._get_param("includeExecutionData", True) is False:
        page = [_without_data(e) for e in page]
    result: dict[str, Any] = {"events": page}
    if rest:
        result["nextToken"] = _token(rest[0]["id"], reverse)
    return ActionResult(result)


register(
    [(StepFunctionResponse, "get_execution_history", _get_execution_history)],
    [Seam(StepFunctionResponse, "get_execution_history", ("self",), _get_execution_history.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_history_pages.py::"
                    "test_a_history_longer_than_a_page_comes_in_pages_that_join_into_the_whole")],
)
