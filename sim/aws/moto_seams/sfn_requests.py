"""The checks AWS runs on every Step Functions request before the action itself: model constraints
(`sfn_constraints`), then ARN shapes (`sfn_arns`), then the resources and values named (`sfn_lookups`).
One patch on moto's request entry point applies them to every action, moto's own and the ones
stepbricks adds.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import AWSError
from moto.stepfunctions.responses import StepFunctionResponse

from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_arns import check_arns
from sim.aws.moto_seams.sfn_constraints import constraint_violations, validation_message
from sim.aws.moto_seams.sfn_lookups import check_resources

__all__ = ["SfnValidationException", "request_params"]

_ORIGINAL_CALL_ACTION = StepFunctionResponse.call_action
_MOTO_INVALID_TOKEN = '"message": "Invalid Token: Invalid token"'
_AWS_INVALID_TOKEN = '"message": "Invalid Token: \'Invalid token\'"'


class SfnValidationException(AWSError):
    TYPE = "ValidationException"
    STATUS = 400


def request_params(response: StepFunctionResponse) -> dict[str, Any]:
    """The request's JSON body as sent (numbers stay numbers), {} when there is none."""
    try:
        params = json.loads(response.body or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def _refuse(response: StepFunctionResponse, error: AWSError) -> Any:
    """The 400 moto would send had the action raised `error` itself."""
    headers: dict[str, Any] = dict(error.get_headers() or [])
    headers["status"] = error.code
    status, headers, body = response._transform_response(response.response_headers, (error.description, headers))
    return (status, *response._enrich_response(headers, body))


def _call_action(self: StepFunctionResponse) -> Any:
    """Wraps `StepFunctionResponse.call_action` (every Step Functions request).

    Restores: a request breaking the model's constraints is a ValidationException "N validation error(s)
    detected: ..." and a malformed or wrong-type ARN an InvalidArn, before the action runs, as on AWS
    (moto accepted out-of-range values and answered ARNs with other codes, or HTTP 500); then AWS's
    answers about the resources and values named (`sfn_lookups`).
    """
    action = self._get_action()
    params = request_params(self)
    try:
        violations = constraint_violations(action, params)
        if violations:
            raise SfnValidationException(validation_message(violations))
        check_arns(action, params)
        check_resources(action, self.stepfunction_backend, params)
    except AWSError as error:
        return _refuse(self, error)
    status, headers, body = _ORIGINAL_CALL_ACTION(self)
    if status == 400 and isinstance(body, str) and _MOTO_INVALID_TOKEN in body:
        # moto's paginator says "Invalid Token: Invalid token"; AWS quotes the reason (recorded in LocalStack's
        # test_sfn_api_aliasing.snapshot.json: "Invalid Token: 'Invalid token'").
        body = body.replace(_MOTO_INVALID_TOKEN, _AWS_INVALID_TOKEN)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    return status, headers, body


register(
    [(StepFunctionResponse, "call_action", _call_action)],
    [Seam(StepFunctionResponse, "call_action", ("self",), _call_action.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_api_validation.py::test_max_results_over_the_model_maximum_is_a_validation_exception")],
)
