"""Tagging Step Functions resources as AWS allows it (moto tagged any ARN, even one naming nothing).

- Only a state machine or an activity that exists can be tagged, untagged or listed; anything else,
  a version ARN included, is `ResourceNotFound: Resource not found: '<arn>'` (recorded against AWS in
  LocalStack's test_sfn_api_tagging.snapshot.json, test_tag_state_machine_version).
- A resource holds at most 50 tags ("Tags per resource: 50", Step Functions quotas in the developer
  guide); more is `TooManyTags` with the resource's name, worded as the API reference describes it.
- Key and value lengths are model constraints (`sfn_constraints`).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.exceptions import ResourceNotFound
from moto.stepfunctions.responses import StepFunctionResponse

from sim.aws.moto_seams.core import Seam, register

__all__ = ["MAX_TAGS"]

MAX_TAGS = 50


class TooManyTags(AWSError):
    TYPE = "TooManyTags"
    STATUS = 400

    def __init__(self, resource_name: str) -> None:
        super().__init__("You've exceeded the number of tags allowed for a resource. See the Limits Topic "
                         "in the AWS Step Functions Developer Guide.")
        self.description = json.dumps({"__type": self.TYPE, "message": self.message, "resourceName": resource_name})


def _existing(self: StepFunctionResponse, arn: str) -> str:
    backend = self.stepfunction_backend
    if any(m.arn == arn for m in backend.state_machines) or arn in backend.activities:
        return arn
    raise ResourceNotFound(arn)


def _tags_of(self: StepFunctionResponse, arn: str) -> dict[str, str]:
    return self.stepfunction_backend.tagger.get_tag_dict_for_resource(arn)


def _tag_resource(self: StepFunctionResponse) -> EmptyResult:
    """Replaces `StepFunctionResponse.tag_resource`.

    Restores: ResourceNotFound for an ARN that names no state machine or activity (a version's too), and
    TooManyTags beyond 50 tags on one resource.
    """
    arn = _existing(self, self._get_param("resourceArn"))
    tags: dict[str, Any] = {t["key"]: t.get("value", "") for t in self._get_param("tags", []) or []}
    if len({**_tags_of(self, arn), **tags}) > MAX_TAGS:
        raise TooManyTags(arn)
    self.stepfunction_backend.tag_resource(arn, tags)
    return EmptyResult()


def _untag_resource(self: StepFunctionResponse) -> EmptyResult:
    """Replaces `StepFunctionResponse.untag_resource`: ResourceNotFound as for TagResource."""
    arn = _existing(self, self._get_param("resourceArn"))
    self.stepfunction_backend.untag_resource(arn, self._get_param("tagKeys", []) or [])
    return EmptyResult()


def _list_tags_for_resource(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.list_tags_for_resource`: ResourceNotFound as for TagResource."""
    arn = _existing(self, self._get_param("resourceArn"))
    return ActionResult({"tags": [{"key": k, "value": v} for k, v in _tags_of(self, arn).items()]})


register(
    [
        (StepFunctionResponse, "tag_resource", _tag_resource),
        (StepFunctionResponse, "untag_resource", _untag_resource),
        (StepFunctionResponse, "list_tags_for_resource", _list_tags_for_resource),
    ],
    [
        Seam(StepFunctionResponse, "tag_resource", ("self",), _tag_resource.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_tagging.py::test_more_than_50_tags_on_a_resource_is_too_many_tags_and_tags_nothing"),
        Seam(StepFunctionResponse, "untag_resource", ("self",), _untag_resource.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_tagging.py::test_an_arn_naming_no_resource_is_resource_not_found"),
        Seam(StepFunctionResponse, "list_tags_for_resource", ("self",), _list_tags_for_resource.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_tagging.py::test_an_arn_naming_no_resource_is_resource_not_found"),
    ],
)
