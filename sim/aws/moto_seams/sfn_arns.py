"""Which ARNs each Step Functions action accepts, and AWS's `InvalidArn` answer for the others.

AWS checks the shape of an ARN parameter before looking anything up (moto answered with other codes and
wordings, or 500 on an ARN without colons). The wordings, recorded against AWS in LocalStack's
tests/aws/services/stepfunctions/v2/test_sfn_api*.snapshot.json:

- not an ARN at all: `Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'` (DescribeStateMachine,
  DescribeExecution, ListExecutions, GetExecutionHistory, DescribeActivity, GetActivityTask,
  PublishStateMachineVersion);
- an ARN of another resource type: `Invalid Arn: 'Resource type not valid in this context: express'`
  (DescribeExecution, StopExecution and GetExecutionHistory of an Express execution).

An ARN of the right type that names nothing passes here and gets the action's "does not exist" error.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.exceptions import InvalidArn

__all__ = ["check_arns"]

_MACHINE = frozenset({"stateMachine"})
_EXECUTION = frozenset({"execution"})
_ACTIVITY = frozenset({"activity"})
_MAP_RUN = frozenset({"mapRun"})

# action -> {parameter: resource types AWS accepts there}
_ARN_PARAMETERS: dict[str, dict[str, frozenset[str]]] = {
    "DescribeStateMachine": {"stateMachineArn": _MACHINE},
    "UpdateStateMachine": {"stateMachineArn": _MACHINE},
    "DeleteStateMachine": {"stateMachineArn": _MACHINE},
    "StartExecution": {"stateMachineArn": _MACHINE},
    "StartSyncExecution": {"stateMachineArn": _MACHINE},
    "ListExecutions": {"stateMachineArn": _MACHINE, "mapRunArn": _MAP_RUN},
    "PublishStateMachineVersion": {"stateMachineArn": _MACHINE},
    "ListStateMachineVersions": {"stateMachineArn": _MACHINE},
    "ListStateMachineAliases": {"stateMachineArn": _MACHINE},
    "DeleteStateMachineVersion": {"stateMachineVersionArn": _MACHINE},
    "DescribeStateMachineAlias": {"stateMachineAliasArn": _MACHINE},
    "UpdateStateMachineAlias": {"stateMachineAliasArn": _MACHINE},
    "DeleteStateMachineAlias": {"stateMachineAliasArn": _MACHINE},
    "DescribeExecution": {"executionArn": _EXECUTION},
    "DescribeStateMachineForExecution": {"executionArn": _EXECUTION},
    "StopExecution": {"executionArn": _EXECUTION},
    "GetExecutionHistory": {"executionArn": _EXECUTION},
    "RedriveExecution": {"executionArn": _EXECUTION},
    "ListMapRuns": {"executionArn": _EXECUTION},
    "DescribeMapRun": {"mapRunArn": _MAP_RUN},
    "UpdateMapRun": {"mapRunArn": _MAP_RUN},
    "DescribeActivity": {"activityArn": _ACTIVITY},
    "DeleteActivity": {"activityArn": _ACTIVITY},
    "GetActivityTask": {"activityArn": _ACTIVITY},
    "TagResource": {"resourceArn": _MACHINE | _ACTIVITY},
    "UntagResource": {"resourceArn": _MACHINE | _ACTIVITY},
    "ListTagsForResource": {"resourceArn": _MACHINE | _ACTIVITY},
}


def resource_type(arn: str) -> str:
    """The resource type of a Step Functions ARN (`arn:aws:states:region:account:<type>:...`), or ""."""
    parts = arn.split(":")
    return parts[5] if len(parts) > 6 and parts[0] == "arn" else ""


def _check(arn: str, accepted: frozenset[str]) -> None:
    if not arn.startswith("arn:"):
        raise InvalidArn(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")
    kind = resource_type(arn)
    if kind not in accepted:
        # An ARN too short to name a resource type: AWS's wording for it is not recorded; the same frame.
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {kind or arn}'")


def check_arns(action: str, params: dict[str, Any]) -> None:
    """Raise AWS's InvalidArn when an ARN parameter of `action` is not an ARN of a type it accepts."""
    for name, accepted in _ARN_PARAMETERS.get(action, {}).items():
        value = params.get(name)
        if isinstance(value, str):
            _check(value, accepted)
