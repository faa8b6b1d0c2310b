"""Step Functions API and service-integration results as AWS returns them, where moto's differ.

Each patch names the AWS behaviour it restores; registered with `core.register` at import.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import botocore.session
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from sim import clock
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_definition import diagnose, invalid_definition_message
from sim.aws.moto_seams.sfn_express import express_diagnostics
from sim.aws.moto_seams.sfn_versions import alias_arn_of, revision_id_of, variable_references, version_arn_of

__all__ = ["DESCRIBE_EXECUTION_FIELDS", "aws_timestamp", "json_text", "sdk_error_prefix"]


def aws_timestamp(value: datetime.datetime | datetime.date) -> str:
    """A timestamp as Step Functions' SDK integrations render it: ISO 8601 in UTC with `Z`, the fraction
    only when non-zero, in groups of three digits (Java's `Instant.toString`, e.g. "2013-08-23T01:02:15.422Z")."""
    if not isinstance(value, datetime.datetime):
        return value.isoformat()
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        fraction = f"{value.microsecond:06d}"
        text += "." + (fraction[:3] if fraction.endswith("000") else fraction)
    return text + "Z"


def _plain(value: Any) -> Any:
    """JSON-ready copy: timestamps become AWS's strings, bytes become text."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return aws_timestamp(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return value


def json_text(value: Any) -> str:
    """The compact JSON text AWS returns in `output` fields."""
    return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)


# -- service integrations ------------------------------------------------------------------------

_ORIGINAL_AWS_SDK_EVAL = StateTaskServiceAwsSdk._eval_service_task


def _aws_sdk_eval_service_task(self: StateTaskServiceAwsSdk, env: Any, resource_runtime_part: Any,
                               normalised_parameters: dict, state_credentials: Any) -> None:
    """Wraps `StateTaskServiceAwsSdk._eval_service_task`.

    Restores: an `arn:aws:states:::aws-sdk:*` result holds timestamps as ISO strings
    ("2013-08-23T01:02:15.422Z"), as on AWS; moto kept Python datetimes, which later broke
    DescribeExecution with HTTP 500 and made `$states.result` unreadable to JSONata.
    """
    _ORIGINAL_AWS_SDK_EVAL(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    env.stack[-1] = _plain(env.stack[-1])


_ACRONYM_RUN = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]+(?=[A-Z][a-z])")


@functools.cache
def sdk_error_prefix(service: str) -> str:
    """The prefix AWS puts on an SDK integration's error names: the service's Java SDK v2 client name
    ("S3", "DynamoDb", "Sfn", "SecretsManager", "Ec2", "Sqs"), i.e. its serviceId with spaces dropped
    and acronyms capitalised as words. moto used the lower-case ARN name ("s3.NoSuchKeyException")."""
    try:
        service_id = str(botocore.session.get_session().get_service_model(service).service_id)
    except Exception:  # not a botocore service name: keep AWS's rule on the name as written
        service_id = service[:1].upper() + service[1:]
    words = re.split(r"[\s\-]+", service_id)
    return "".join(_ACRONYM_RUN.sub(lambda m: m.group(0)[0] + m.group(0)[1:].lower(), w[:1].upper() + w[1:])
                   for w in words if w)


def _normalise_service_error_name(*args: Any) -> str:
    """Replaces the static `StateTaskServiceAwsSdk._normalise_service_error_name` (*args: it may be
    called bound or unbound).

    Restores: SDK integration errors are named `<Service>.<Exception>` with the service cased as AWS
    does: `S3.NoSuchKeyException`, `DynamoDb.ConditionalCheckFailedException`.
    """
    return sdk_error_prefix(args[-1])


# -- API responses ---------------------------------------------------------------------------------

# Fields sibling modules add to DescribeExecution, each from the execution (sfn_redrive: redriveCount, ...).
DESCRIBE_EXECUTION_FIELDS: list[Callable[[Any], dict[str, Any]]] = []


def _describe_execution(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.describe_execution`.

    Restores: `output` is always the JSON text of the result (moto returned a string result raw,
    so an execution ending in "high" answered `high`, not `"high"`, and a timestamp failed with 500);
    an execution of a version names the machine, the version and the alias it was started through;
    `inputDetails` and the redrive fields AWS always reports.
    """
    arn = self._get_param("executionArn")
    execution = self.stepfunction_backend.describe_execution(arn)
    response: dict[str, Any] = {
        "executionArn": arn, "input": execution.execution_input, "name": execution.name,
        "startDate": execution.start_date, "stateMachineArn": execution.state_machine_arn,
        "status": execution.status,
    }
    if execution.status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.ABORTED, ExecutionStatus.FAILED,
                            ExecutionStatus.TIMED_OUT):
        response["stopDate"] = execution.stop_date
    if execution.status == ExecutionStatus.SUCCEEDED:
        output = execution.output
        # The parser backend keeps the result as a value; moto's non-executing backend keeps JSON text.
        executes = hasattr(execution, "exec_worker")
        response["output"] = json_text(output) if executes or not isinstance(output, str) else output
        response["outputDetails"] = getattr(execution, "output_details", None) or {"included": True}
    if execution.error is not None:
        response["error"] = execution.error
    if execution.cause is not None:
        response["cause"] = execution.cause
    if version_arn_of(execution):  # started on a version or through an alias
        response["stateMachineArn"] = execution.state_machine.source_arn
        response["stateMachineVersionArn"] = version_arn_of(execution)
    if alias_arn_of(execution):
        response["stateMachineAliasArn"] = alias_arn_of(execution)
    response["inputDetails"] = {"included": True}
    response.update(_redrive_fields(str(getattr(execution.status, "value", execution.status))))
    for fields in DESCRIBE_EXECUTION_FIELDS:  # e.g. sfn_redrive: the execution's own redrive record
        response.update(fields(execution))
    return ActionResult(response)


def _redrive_fields(status: str) -> dict[str, Any]:
    """DescribeExecution's redrive fields as AWS reports them for an execution never redriven
    (LocalStack's test_sfn_api.snapshot.json, test_describe_execution: "Execution is SUCCEEDED and cannot
    be redriven"; API reference DescribeExecution: FAILED, TIMED_OUT and ABORTED executions are REDRIVABLE)."""
    fields: dict[str, Any] = {"redriveCount": 0}
    if status in ("FAILED", "TIMED_OUT", "ABORTED"):
        fields["redriveStatus"] = "REDRIVABLE"
    else:
        fields.update({"redriveStatus": "NOT_REDRIVABLE",
                       "redriveStatusReason": f"Execution is {status} and cannot be redriven"})
    return fields


def _describe_state_machine_for_execution(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.describe_state_machine_for_execution`.

    Restores: the definition, role and configuration the execution ran with (moto described the machine
    as it is now), in AWS's shape: `updateDate` and `revisionId`, no `creationDate`/`status`/`type`
    (test_sfn_api.snapshot.json, test_describe_state_machine_for_execution; test_sfn_api_versioning), with
    `variableReferences` (test_sfn_api_variable_references).
    """
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    machine = getattr(execution, "state_machine", None) or self.stepfunction_backend.describe_state_machine(
        execution.state_machine_arn)
    response: dict[str, Any] = {
        "stateMachineArn": getattr(machine, "source_arn", machine.arn), "name": machine.name,
        "definition": machine.definition, "roleArn": machine.roleArn,
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False, **(machine.loggingConfiguration or {})},
        "tracingConfiguration": machine.tracingConfiguration or {"enabled": False},
        "updateDate": machine.update_date,
    }
    if revision_id_of(machine):
        response["revisionId"] = revision_id_of(machine)
    if references := variable_references(machine.definition):
        response["variableReferences"] = references
    return ActionResult(response)


def _send_task_failure(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.send_task_failure`.

    Restores: SendTaskFailure's `cause` reaches the task's failure (TaskFailed event, Catch's
    `Cause`, the execution's `cause`); moto passed only `error`.
    """
    self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                cause=self._get_param("cause"))
    return EmptyResult()


def _stop_execution(self: StepFunctionResponse) -> ActionResult:
    """Replaces `StepFunctionResponse.stop_execution`.

    Restores: the request's `error` and `cause` reach the `ExecutionAborted` event, and an abort without
    them records `executionAbortedEventDetails: {}` as AWS does (LocalStack's snapshot recorded on AWS,
    tests/aws/services/stepfunctions/v2/test_sfn_api.py::TestSnfApi::test_stop_execution); moto passed
    "" for both, so every abort read `{"error": "", "cause": ""}`. The response carries `stopDate`, a
    required member of StopExecutionOutput: moto answered with the execution's own stop date, still None
    while its thread winds down, so boto3 saw no `stopDate` at all.
    """
    arn = self._get_param("executionArn")
    # describe_execution's lookup is StopExecution's: the same ARN checks, ExecutionDoesNotExist alike.
    execution = self.stepfunction_backend.describe_execution(arn)
    if execution.status != ExecutionStatus.RUNNING and execution.stop_date is not None:
        # Already ended: AWS documents no answer for it; moto's (200, the recorded stopDate) is kept.
        return ActionResult({"stopDate": execution.stop_date})
    stop_date = datetime.datetime.fromtimestamp(clock.now(), datetime.UTC)
    execution.stop(stop_date=stop_date, error=self._get_param("error"), cause=self._get_param("cause"))
    return ActionResult({"stopDate": stop_date})


# -- definitions ---------------------------------------------------------------------------------------

class InvalidDefinition(AWSError):
    """AWS's 400 InvalidDefinition (moto's parser raised a LocalStack exception that moto's server sends
    with an empty error code)."""

    TYPE = "InvalidDefinition"
    STATUS = 400


_parsed: dict[str, None] = {}  # definitions moto's grammar accepted, oldest first (a bounded LRU)
_PARSED_LIMIT = 256
_parsed_lock = threading.Lock()


def _parse(definition: str) -> None:
    """moto's grammar on `definition` (raises what it refuses). A definition it accepted is not parsed
    again: the parse is pure, and TestState creates the same small machines call after call."""
    with _parsed_lock:
        if definition in _parsed:
            _parsed[definition] = _parsed.pop(definition)  # most recently used last
            return
    AmazonStateLanguageParser.parse(definition)
    with _parsed_lock:
        _parsed[definition] = None
        while len(_parsed) > _PARSED_LIMIT:
            del _parsed[next(iter(_parsed))]


def _validate_definition(*args: Any, **kwargs: Any) -> None:
    """Replaces the static `StepFunctionsParserBackend._validate_definition` (used by Create/UpdateStateMachine).

    Restores: a definition AWS refuses fails with `InvalidDefinition` and AWS's message, "Invalid State
    Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/A/Next'";
    dangling targets, unreachable states, Retry/Catch on Pass/Choice/Wait/Succeed/Fail and JSONata that
    does not parse are refused, as on AWS (moto accepted them).
    """
    definition = kwargs.get("definition", args[-1] if args else "")
    diagnostics = diagnose(definition, _parse)
    if diagnostics:
        raise InvalidDefinition(invalid_definition_message(diagnostics))


def _validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
    """ValidateStateMachineDefinition, which moto lacks (HTTP 500): `result` OK/FAIL with AWS's diagnostics."""
    definition = self._get_param("definition") or ""
    max_results = int(self._get_param("maxResults") or 100)
    found = diagnose(definition, _parse)
    if self._get_param("type") == "EXPRESS":
        found += express_diagnostics(definition)
    diagnostics = [d.as_api() for d in found]
    return ActionResult({"result": "FAIL" if diagnostics else "OK", "diagnostics": diagnostics[:max_results],
                         "truncated": len(diagnostics) > max_results})


# API actions moto does not have at all are added (not patched): nothing to restore on uninstall.

register(
    [
        (StepFunctionResponse, "validate_state_machine_definition", _validate_state_machine_definition),
        (StateTaskServiceAwsSdk, "_eval_service_task", _aws_sdk_eval_service_task),
        (StepFunctionResponse, "describe_execution", _describe_execution),
        (StepFunctionResponse, "describe_state_machine_for_execution", _describe_state_machine_for_execution),
        (StateTaskServiceAwsSdk, "_normalise_service_error_name", _normalise_service_error_name),
        (StepFunctionsParserBackend, "_validate_definition", _validate_definition),
        (StepFunctionResponse, "send_task_failure", _send_task_failure),
        (StepFunctionResponse, "stop_execution", _stop_execution),
    ],
    [
        Seam(StateTaskServiceAwsSdk, "_eval_service_task",
             ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
             _aws_sdk_eval_service_task.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_api_divergences.py::test_a_choice_sees_an_sdk_integrations_timestamp_as_a_timestamp_string"),
        Seam(StepFunctionResponse, "describe_execution", ("self",), _describe_execution.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_api_divergences.py::test_describe_execution_returns_a_string_result_as_json_text"),
        Seam(StepFunctionsParserBackend, "_validate_definition", ("definition",), _validate_definition.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_definitions.py::test_dangling_next_is_invalid_definition_with_aws_message"),
        Seam(StepFunctionResponse, "describe_state_machine_for_execution", ("self",),
             _describe_state_machine_for_execution.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_api_divergences.py::test_describe_state_machine_for_execution_shows_what_the_execution_ran"),
        Seam(StateTaskServiceAwsSdk, "_normalise_service_error_name", ("service_name",),
             _normalise_service_error_name.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_api_divergences.py::test_sdk_integration_error_name_carries_the_service_prefix_as_aws_cases_it"),
        Seam(StepFunctionResponse, "send_task_failure", ("self",), _send_task_failure.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_api_divergences.py::test_send_task_failure_cause_reaches_the_task_failure_and_the_catch"),
        Seam(StepFunctionResponse, "stop_execution", ("self",), _stop_execution.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_api_divergences.py::test_stop_execution_records_its_error_and_cause_and_answers_its_stop_date"),
        Seam(StepFunctionResponse, "validate_state_machine_definition", (),
             _validate_state_machine_definition.__doc__ or "", adds=True,
             proved_by="tests/sim/aws/sfn/test_definitions.py::test_validate_state_machine_definition_lists_diagnostics"),
    ],
)
