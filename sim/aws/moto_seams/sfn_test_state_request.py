"""TestState's request, read and checked as AWS checks it before running anything (`sfn_test_state`
runs it).

The refusals and their wordings, recorded against AWS in LocalStack's
tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json: a `stateName` the machine lacks; a Task
without `roleArn` and without a mock; a mock on a Pass, Succeed or Fail state, with both `result` and
`errorOutput`, with `revealSecrets`, or whose result does not fit the API (`sfn_mock_results`) or the
Map/Parallel state; Map and Parallel states without a mock; `mapIterationFailureCount` without a mock
or beyond the mocked items; a mocked `context` with fields AWS does not allow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import AWSError
from moto.stepfunctions.exceptions import InvalidExecutionInput
from moto.stepfunctions.responses import StepFunctionResponse

from sim.aws.moto_seams.sfn_api import InvalidDefinition
from sim.aws.moto_seams.sfn_definition import diagnose, diagnose_state, invalid_definition_message
from sim.aws.moto_seams.sfn_lookups import jackson_message
from sim.aws.moto_seams.sfn_mock_results import mock_result_error

__all__ = ["CONTEXT_VARIABLE", "STAND_IN", "Request", "loads", "read_request"]

STAND_IN = "TestState"
CONTEXT_VARIABLE = "stepbricksContext"
# The fields a mocked context object may have (test_state_context_object.snapshot.json; developer guide,
# "Context object"); `Task` only for a callback or .sync Task, `Map` never.
_CONTEXT_FIELDS = {"Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"},
                   "State": {"EnteredTime", "Name", "RetryCount"}, "StateMachine": {"Id", "Name"},
                   "Task": {"Token"}}
_CONTEXT_STRINGS = {"Execution": {"Id", "Name", "RoleArn", "StartTime", "RedriveTime"},
                    "State": {"EnteredTime", "Name"}, "StateMachine": {"Id", "Name"}, "Task": {"Token"}}
_UNMOCKABLE = ("Pass", "Succeed", "Fail")


class TestStateValidationException(AWSError):
    TYPE = "ValidationException"
    STATUS = 400


@dataclass
class Request:
    """A TestState request, checked."""

    state: dict[str, Any]
    name: str
    language: str | None
    state_input: Any
    role: str
    level: str
    mock: dict[str, Any] | None
    retry_count: int
    variables: dict[str, Any] | None
    map_failures: int = 0
    context: dict[str, Any] | None = None

    @property
    def run_variables(self) -> dict[str, Any] | None:
        """The variables a run sees: the request's, and the mocked context object where `$$` was."""
        if self.context is None:
            return self.variables
        return {**(self.variables or {}), CONTEXT_VARIABLE: self.context}


def loads(text: Any) -> Any:
    """JSON text as its value; anything else (a value already, or text that is not JSON) as it is."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _refuse(message: str) -> TestStateValidationException:
    return TestStateValidationException(message)


def _check_fan_out_result(state: dict[str, Any], result: Any) -> None:
    """A mocked Map or Parallel result has the shape the state produces (test_state_mock_validation)."""
    if state["Type"] == "Map" and "ResultWriter" in state:
        if not isinstance(result, dict):
            raise _refuse("Mocked result must be a JSON object.")
    elif state["Type"] in ("Map", "Parallel"):
        if not isinstance(result, list):
            raise _refuse("Mocked result must be an array.")
        if state["Type"] == "Parallel" and len(result) != len(state.get("Branches") or []):
            raise _refuse("Mocked result must contain the same number of items as number of Parallel branches.")


def _find_state(scope: dict[str, Any], name: str, language: str | None) -> tuple[dict[str, Any], str | None] | None:
    """The state `name` of a machine and its query language: a top-level state, or one inside a Parallel
    branch or a Map's ItemProcessor (test_test_state_machine_scenarios.snapshot.json tests `HandleItem`,
    the state a Map runs for each item, by its name)."""
    states = scope.get("States")
    if not isinstance(states, dict):
        return None
    if isinstance(states.get(name), dict):
        return states[name], language
    for state in states.values():
        if not isinstance(state, dict):
            continue
        inner_language = state.get("QueryLanguage", language)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        for nested in [*(state.get("Branches") or []), *([processor] if processor else [])]:
            found = _find_state(nested, name, inner_language) if isinstance(nested, dict) else None
            if found is not None:
                return found
    return None


def _context(text: Any, state: dict[str, Any]) -> dict[str, Any] | None:
    """The mocked context object, checked as AWS checks it (test_state_context_object.snapshot.json)."""
    if text is None:
        return None
    try:
        context = json.loads(text)
    except ValueError:
        raise _refuse("Invalid Context object provided: the context must be valid JSON") from None
    if not isinstance(context, dict):
        raise _refuse("Invalid Context object provided: the context must be a JSON object")
    for section, value in context.items():
        if section == "Map":
            raise _refuse("Invalid Context object provided: 'Map' field is not supported when mocking a Context object")
        if section not in _CONTEXT_FIELDS:
            raise _refuse(f"Invalid Context object provided: Field '{section}' is not allowed")
        if section == "Task" and not str(state.get("Resource", "")).endswith((".sync", ".waitForTaskToken")):
            raise _refuse("Invalid Context object provided: Context object contains 'Task' when state is not a "
                          "Task state with a '.sync' or '.waitForTaskToken' service integration pattern")
        for name, inner in (value or {}).items() if isinstance(value, dict) else ():
            if name not in _CONTEXT_FIELDS[section]:
                raise _refuse(f"Invalid Context object provided: Field '{name}' is not allowed")
            if name in _CONTEXT_STRINGS[section] and not isinstance(inner, str):
                raise _refuse(f"Invalid Context object provided: {section}.{name} must be a string")
    return context


def _reading_context_variable(value: Any, evaluated: bool = False) -> Any:
    """`value` with the context object read from a variable: `$$` in JSONPath fields (keys ending `.$`),
    `$states.context` in JSONata expressions."""
    if isinstance(value, str):
        if value.startswith("{%"):
            return value.replace("$states.context", f"${CONTEXT_VARIABLE}")
        return value.replace("$$", f"${CONTEXT_VARIABLE}") if evaluated else value
    if isinstance(value, dict):
        return {k: _reading_context_variable(v, k.endswith(".$")) for k, v in value.items()}
    if isinstance(value, list):
        return [_reading_context_variable(v, evaluated) for v in value]
    return value


def read_request(self: StepFunctionResponse) -> Request:
    """The request's state, input, mock, context and settings, refused as AWS refuses them."""
    text = self._get_param("definition") or ""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidDefinition(f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'") from None
    state_name = self._get_param("stateName")
    language = None
    if state_name is not None:
        diagnostics = diagnose(text)
        if diagnostics:
            raise InvalidDefinition(invalid_definition_message(diagnostics))
        found = _find_state(document, state_name, document.get("QueryLanguage")) \
            if isinstance(document, dict) else None
        if found is None:
            raise _refuse("State not found in definition")
        state, language = found
    else:
        state = document
    if not isinstance(state, dict) or not isinstance(state.get("Type"), str):
        raise InvalidDefinition("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
                                "These fields are required: [Type] at /'")
    if state_name is None:
        diagnostics = diagnose_state(state, "StateName")
        if diagnostics:
            raise InvalidDefinition(invalid_definition_message(diagnostics))
    language = state.get("QueryLanguage", language)
    mock = self._get_param("mock")
    if mock is not None:
        if self._get_param("revealSecrets"):
            raise _refuse("TestState does not support RevealSecrets when a mock is specified.")
        if state["Type"] in _UNMOCKABLE:
            raise _refuse(f"State type '{state['Type']}' is not supported when a mock is specified")
        if "result" in mock and "errorOutput" in mock:
            raise _refuse("A test mock should have only one of the following fields: [result, errorOutput].")
        if "result" in mock:
            try:
                result = json.loads(mock["result"])
            except (TypeError, ValueError):
                raise _refuse("Mocked result must be valid JSON") from None
            problem = mock_result_error(state.get("Resource"), result, mock.get("fieldValidationMode"))
            if problem:
                raise _refuse(problem)
            _check_fan_out_result(state, result)
    elif state["Type"] in ("Map", "Parallel"):
        # test_state_mock_validation.snapshot.json: test_state_type_requires_mock
        raise InvalidDefinition("TestState API does not support Map or Parallel states. "
                                "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]")
    configuration = self._get_param("stateConfiguration") or {}
    failures = configuration.get("mapIterationFailureCount")
    if failures is not None:
        if mock is None:
            raise _refuse("TestState does not support MapIterationFailureCount when a mock is not specified.")
        items = loads(mock.get("result"))
        if isinstance(items, list) and failures > len(items):
            raise _refuse("Map iteration failure count must be less than or equal to the number of Map iterations")
    context = _context(self._get_param("context"), state)
    if context is not None:
        state = _reading_context_variable(state)
    role = self._get_param("roleArn")
    if state["Type"] == "Task" and not role and mock is None:
        raise _refuse("RoleArn must be specified when testing a Task state")
    input_text = self._get_param("input") or "{}"
    if jackson_message(input_text):  # TestState's errors (botocore model) include InvalidExecutionInput
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{jackson_message(input_text)}'")
    state_input = json.loads(input_text)
    try:
        variables = json.loads(self._get_param("variables") or "{}")
    except ValueError:
        raise _refuse("Invalid variables: the variables must be a JSON object") from None
    return Request(state=state, name=state_name or STAND_IN, language=language, state_input=state_input,
                   role=role or "arn:aws:iam::123456789012:role/TestState", level=self._get_param("inspectionLevel")
                   or "INFO", mock=mock, retry_count=int(configuration.get("retrierRetryCount") or 0),
                   variables=variables if isinstance(variables, dict) and variables else None,
                   map_failures=int(failures or 0), context=context)
