"""What AWS checks about a Step Functions request's resources and values before acting, where moto
answered otherwise (a wrong code or wording, an empty error code, a 60-second poll, or HTTP 500).

Run by the request hook (`sfn_requests`) after the model constraints and ARN shapes. Wordings recorded
against AWS in LocalStack's tests/aws/services/stepfunctions/v2/test_sfn_api*.snapshot.json:
- StartExecution input that is not JSON: InvalidExecutionInput "Invalid State Machine Execution Input:
  '<the JSON parser's message>'" (Jackson's words: "Unrecognized token 'not': was expecting ...");
  an execution name with a character AWS forbids: InvalidName "Invalid Name: '<name>'";
- CreateStateMachine of an existing name with another definition, role or type: StateMachineAlreadyExists
  "State Machine Already Exists: '<arn>'" (the same request again is idempotent);
- a logging configuration with a level but not exactly one destination, or naming a log group that does
  not exist: InvalidLoggingConfiguration "Invalid Logging Configuration: Must specify exactly one Log
  Destination." / "... Log Destination not found." (test_sfn_api_logs.snapshot.json);
- an Express machine with a callback, `.sync` or activity task: InvalidDefinition (`sfn_express`);
  ListExecutions of an Express machine: StateMachineTypeNotSupported;
- more than 50 tags at CreateStateMachine/CreateActivity: TooManyTags (`sfn_tags`);
- an activity that does not exist: ActivityDoesNotExist "Activity Does Not Exist: '<arn>'";
- DescribeStateMachineForExecution of an unknown execution: ExecutionDoesNotExist;
- DescribeStateMachineAlias of an unknown alias: ResourceNotFound "Request references a resource that does
  not exist.";
- RedriveExecution of an unknown execution or of one that did not fail: ExecutionDoesNotExist /
  ExecutionNotRedrivable "Execution is SUCCEEDED and cannot be redriven" (the reason DescribeExecution gives).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import AWSError
from moto.logs.models import logs_backends
from moto.stepfunctions.exceptions import (
    ActivityDoesNotExist,
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    ResourceNotFound,
)

from sim.aws.moto_seams.sfn_api import InvalidDefinition
from sim.aws.moto_seams.sfn_definition import invalid_definition_message
from sim.aws.moto_seams.sfn_express import express_diagnostics
from sim.aws.moto_seams.sfn_sync import StateMachineTypeNotSupported
from sim.aws.moto_seams.sfn_tags import MAX_TAGS, TooManyTags
from sim.aws.moto_seams.sfn_versions import ResourceNotFound as AliasNotFound

__all__ = ["check_resources", "jackson_message"]

_EXPECTING_VALUE = "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


class StateMachineAlreadyExists(AWSError):
    TYPE = "StateMachineAlreadyExists"
    STATUS = 400


class InvalidLoggingConfiguration(AWSError):
    TYPE = "InvalidLoggingConfiguration"
    STATUS = 400


def jackson_message(text: str) -> str:
    """Why `text` is not JSON, in the words of the Jackson parser AWS uses, for the common cases; Python's
    words otherwise."""
    try:
        json.loads(text)
    except ValueError as exc:
        stripped = text.lstrip()
        if not stripped:
            return "Invalid execution input."  # test_invalid_start_execution_input: start_res_empty
        word = re.match(r"[A-Za-z0-9_$.\-+]+", stripped)
        if word and stripped[0] not in "-0123456789":
            return f"Unrecognized token '{word.group(0)}': {_EXPECTING_VALUE}"
        field = re.match(r"\{\s*([^\s\"}])", stripped)
        if field:
            char = field.group(1)
            return f"Unexpected character ('{char}' (code {ord(char)})): was expecting double-quote to start field name"
        return str(exc)
    return ""


def _start_execution(backend: Any, params: dict[str, Any]) -> None:
    text = params.get("input")
    if isinstance(text, str) and jackson_message(text):
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{jackson_message(text)}'")
    if isinstance(params.get("name"), str):
        backend._validate_name(params["name"])


def _same(a: str | None, b: str | None) -> bool:
    try:
        return json.loads(a or "null") == json.loads(b or "null")
    except ValueError:
        return a == b


def _logging(backend: Any, params: dict[str, Any]) -> None:
    configuration = params.get("loggingConfiguration")
    if not isinstance(configuration, dict):
        return
    destinations = configuration.get("destinations") or []
    level = configuration.get("level") or "OFF"
    if len(destinations) > 1 or (level != "OFF" and not destinations):
        raise InvalidLoggingConfiguration("Invalid Logging Configuration: Must specify exactly one Log Destination.")
    for destination in destinations:
        arn = str(((destination or {}).get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or "")
        parts = arn.split(":")
        name = parts[6] if len(parts) > 6 and parts[5] == "log-group" else ""
        groups = logs_backends[parts[4]][parts[3]].groups if name else {}
        if name not in groups:
            raise InvalidLoggingConfiguration("Invalid Logging Configuration: Log Destination not found.")


def _express(definition: Any) -> None:
    diagnostics = express_diagnostics(definition) if isinstance(definition, str) else []
    if diagnostics:
        raise InvalidDefinition(invalid_definition_message(diagnostics))


def _update_state_machine(backend: Any, params: dict[str, Any]) -> None:
    _logging(backend, params)
    machine = next((m for m in backend.state_machines if m.arn == params.get("stateMachineArn")), None)
    if machine is not None and machine.type == "EXPRESS":
        _express(params.get("definition"))


def _tag_count(backend: Any, params: dict[str, Any], kind: str) -> None:
    tags = params.get("tags") or []
    if len({t.get("key") for t in tags if isinstance(t, dict)}) > MAX_TAGS:
        raise TooManyTags(f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}:{kind}:"
                          f"{params.get('name')}")


def _create_activity(backend: Any, params: dict[str, Any]) -> None:
    _tag_count(backend, params, "activity")


def _create_state_machine(backend: Any, params: dict[str, Any]) -> None:
    _tag_count(backend, params, "stateMachine")
    _logging(backend, params)
    if params.get("type") == "EXPRESS":
        _express(params.get("definition"))
    name = params.get("name")
    existing = next((m for m in backend.state_machines if m.name == name), None)
    if existing is None:
        return
    if not _same(existing.definition, params.get("definition")) or existing.roleArn != params.get("roleArn") \
            or existing.type != (params.get("type") or "STANDARD"):
        raise StateMachineAlreadyExists(f"State Machine Already Exists: '{existing.arn}'")


def _list_executions(backend: Any, params: dict[str, Any]) -> None:
    machine = next((m for m in backend.state_machines if m.arn == params.get("stateMachineArn")), None)
    if machine is not None and machine.type == "EXPRESS":
        # test_sfn_api_express.snapshot.json: Express executions are not listed (CloudWatch Logs has them)
        raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")


def _activity(backend: Any, params: dict[str, Any]) -> None:
    arn = params.get("activityArn")
    if arn not in backend.activities:
        raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")


def _execution(backend: Any, params: dict[str, Any]) -> None:
    arn = params.get("executionArn")
    if not any(e.execution_arn == arn for m in backend.state_machines for e in m.executions):
        raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")


class ExecutionNotRedrivable(AWSError):
    TYPE = "ExecutionNotRedrivable"
    STATUS = 400


def _redrive(backend: Any, params: dict[str, Any]) -> None:
    """RedriveExecution of an unknown execution, or of one that did not fail: AWS's refusals (its reason is
    DescribeExecution's `redriveStatusReason`). Redriving a failed execution itself is not simulated."""
    _execution(backend, params)
    arn = params.get("executionArn")
    execution = next(e for m in backend.state_machines for e in m.executions if e.execution_arn == arn)
    status = str(getattr(execution.status, "value", execution.status))
    if status not in ("FAILED", "TIMED_OUT", "ABORTED"):
        raise ExecutionNotRedrivable(f"Execution is {status} and cannot be redriven")


def _alias(backend: Any, params: dict[str, Any]) -> None:
    """An alias that does not exist: ResourceNotFound in the words AWS uses for it at UpdateStateMachineAlias
    (test_sfn_api_aliasing.snapshot.json); moto wrapped its own message in another and answered a missing
    machine with StateMachineDoesNotExist, which DescribeStateMachineAlias does not declare."""
    source, _, name = str(params.get("stateMachineAliasArn")).rpartition(":")
    machine = next((m for m in backend.state_machines if m.arn == source), None)
    if machine is None or name not in machine.aliases:
        raise AliasNotFound("Request references a resource that does not exist.")


def _map_run(backend: Any, params: dict[str, Any]) -> None:
    arn = params.get("mapRunArn")
    for machine in backend.state_machines:
        for execution in machine.executions:
            worker = getattr(execution, "exec_worker", None)
            if worker is not None and worker.env.map_run_record_pool_manager.get(arn) is not None:
                return
    raise ResourceNotFound(arn)


_CHECKS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "StartExecution": _start_execution,
    "StartSyncExecution": _start_execution,
    "CreateStateMachine": _create_state_machine,
    "CreateActivity": _create_activity,
    "UpdateStateMachine": _update_state_machine,
    "ListExecutions": _list_executions,
    "DescribeActivity": _activity,
    "GetActivityTask": _activity,
    "DescribeStateMachineForExecution": _execution,
    "DescribeStateMachineAlias": _alias,
    "RedriveExecution": _redrive,
    "DescribeMapRun": _map_run,
    "UpdateMapRun": _map_run,
}


def check_resources(action: str, backend: Any, params: dict[str, Any]) -> None:
    """Raise AWS's error when `action` names a resource or value AWS would refuse before acting."""
    check = _CHECKS.get(action)
    if check is not None:
        check(backend, params)
