"""TestState, which moto lacks: one state run on an input, answered as AWS answers it.

The behaviour followed (API reference "TestState", developer guide "Using TestState API to test a state",
and LocalStack's tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json recorded against AWS):

- `definition` is one state (schema-checked as `/States/StateName`), or a whole machine with `stateName`
  naming the state to test, at the top level or inside a Map's ItemProcessor or a Parallel branch ("State
  not found in definition" otherwise); a Task state needs `roleArn` unless it is mocked.
- `status`: SUCCEEDED (with `output` and, when the state moves on, `nextState`); RETRIABLE when a
  retrier matches the error and has attempts left (`stateConfiguration.retrierRetryCount` says how many
  were used) — TestState never retries; CAUGHT_ERROR when a catcher matches (`nextState` is its target,
  `output` the error output placed at its ResultPath); FAILED otherwise.
- `inspectionData` only at DEBUG and TRACE: `input`, then for JSONPath states the data after each step
  of input/output processing the state has (`afterInputPath`, `afterParameters`, `result`,
  `afterResultSelector`, `afterResultPath`), and `errorDetails` (`retryIndex`,
  `retryBackoffIntervalSeconds`, `catchIndex`) when a retrier or catcher matched.
- `mock.result` / `mock.errorOutput` stand in for a Task's call (a Pass, Succeed or Fail state cannot be
  mocked, nor can both be given, nor `revealSecrets` with a mock); a result must fit the API's output
  shape as `mock.fieldValidationMode` asks (`sfn_mock_results`).
- `context` replaces the context object (`$$`, `$states.context`) the state reads; AWS refuses unknown
  fields, a `Map` field, `Task` outside callback/.sync Tasks and non-string ids and names.

The request is read and checked in `sfn_test_state_request`. The state runs in moto's interpreter inside a
throwaway Express machine whose other states stand in for
its targets (so Choice routing is the interpreter's own); Retry and Catch are decided here, as TestState
decides them without retrying. Each intermediate datum is computed by running a Pass state that does that
one step, so the interpreter's path, template and intrinsic semantics apply throughout.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.responses import StepFunctionResponse

from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_api import json_text
from sim.aws.moto_seams.sfn_sync import wait_until_finished
from sim.aws.moto_seams.sfn_test_state_request import STAND_IN, Request, loads, read_request

__all__: list[str] = []

_ASSIGN = "stepbricks-test-state-variables"
_MOCK_VARIABLE = "stepbricksMockResult"
_ERROR_VARIABLE = "stepbricksCaughtError"
_RESULT_EVENTS = ("taskSucceededEventDetails", "lambdaFunctionSucceededEventDetails")


@dataclass
class Outcome:
    """How one run of a state ended."""

    output: Any = None
    next_state: str | None = None
    error: str | None = None
    cause: str | None = None
    task_result: Any = None
    task_parameters: Any = None
    succeeded: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)


def _targets(state: dict[str, Any]) -> list[str]:
    found = [state.get("Next"), state.get("Default")]
    found += [c.get("Next") for c in state.get("Choices") or [] if isinstance(c, dict)]
    return [t for t in found if isinstance(t, str)]


def _run(backend: Any, state: dict[str, Any], state_input: Any, *, name: str, role: str,
         language: str | None, variables: dict[str, Any] | None = None) -> Outcome:
    """Run `state` alone on `state_input` (a value), with `variables` assigned before it, and report how
    it ended."""
    state = copy.deepcopy(state)
    state.pop("Retry", None)
    state.pop("Catch", None)
    if language:
        state["QueryLanguage"] = language
    stand_ins = {t: {"Type": "Succeed"} for t in _targets(state) if t != name}
    states: dict[str, Any] = {name: state, **stand_ins}
    start = name
    if variables:
        # A JSONPath Pass passes its input on unchanged and assigns the values as they are.
        states[_ASSIGN] = {"Type": "Pass", "QueryLanguage": "JSONPath", "Assign": variables, "Next": name}
        start = _ASSIGN
    definition: dict[str, Any] = {"StartAt": start, "States": states}
    ids = sim_context.current().ids
    machine = backend.create_state_machine(name=f"teststate-{ids.hex('test-state', 12)}",
                                           definition=json.dumps(definition), roleArn=role, sm_type="EXPRESS")
    try:
        execution = backend.start_execution(machine.arn, name=ids.uuid("execution"),
                                            execution_input=json.dumps(state_input))
        wait_until_finished(backend.describe_execution(execution.execution_arn))
        described = backend.describe_execution(execution.execution_arn)
        events = backend.get_execution_history(execution.execution_arn)["events"]
    finally:
        backend.delete_state_machine(machine.arn)
    outcome = Outcome(events=events)
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    # Only the stand-ins are targets: a Parallel's or Map's inner states are entered too.
    outcome.next_state = next((n for n in entered if n in stand_ins), None)
    for event in events:
        for key in _RESULT_EVENTS:
            if key in event:
                outcome.task_result = loads(event[key].get("output"))
        if "taskScheduledEventDetails" in event:
            outcome.task_parameters = loads(event["taskScheduledEventDetails"].get("parameters"))
        if "lambdaFunctionScheduledEventDetails" in event:
            outcome.task_parameters = loads(event["lambdaFunctionScheduledEventDetails"].get("input"))
    exited = [e["stateExitedEventDetails"] for e in events if e.get("stateExitedEventDetails", {}).get("name") == name]
    status = str(getattr(described.status, "value", described.status))
    if exited and (outcome.next_state is not None or status == "SUCCEEDED"):
        outcome.succeeded = True
        outcome.output = loads(exited[-1].get("output"))
    elif status == "SUCCEEDED":
        outcome.succeeded = True
        outcome.output = described.output
    else:
        outcome.error, outcome.cause = described.error, described.cause
    return outcome


def _pass(backend: Any, fields: dict[str, Any], state_input: Any, request: Request) -> Any:
    """The output of a Pass state with `fields` on `state_input`: one step of input/output processing
    (with the request's variables, which Parameters and ResultSelector may read)."""
    outcome = _run(backend, {"Type": "Pass", **fields, "End": True}, state_input, name=STAND_IN, role=request.role,
                   language="JSONPath", variables=request.run_variables)
    return outcome.output


def _error_matches(names: Any, error: str | None) -> bool:
    names = names if isinstance(names, list) else []
    # States.ALL matches every error but States.Runtime (developer guide, "Error handling").
    return error in names or ("States.ALL" in names and error != "States.Runtime")


def _backoff(retrier: dict[str, Any], attempt: int) -> int | float:
    interval = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** attempt
    if "MaxDelaySeconds" in retrier:
        interval = min(interval, float(retrier["MaxDelaySeconds"]))
    return int(interval) if interval == int(interval) else interval


def _map_tolerates(state: dict[str, Any], failures: int, items: int) -> bool:
    """Whether a Map run with `failures` of `items` iterations failing stays within its tolerance."""
    count = state.get("ToleratedFailureCount")
    percentage = state.get("ToleratedFailurePercentage")
    if count is None and percentage is None:
        return failures == 0
    within_count = count is not None and failures <= int(count)
    within_percentage = percentage is not None and items > 0 and failures * 100 / items <= float(percentage)
    return within_count or within_percentage


def _outcome(backend: Any, request: Request) -> Outcome:
    """Run the state, or stand its mock in for the Task's call."""
    mock = request.mock
    if mock is None:
        return _run(backend, request.state, request.state_input, name=request.name, role=request.role,
                    language=request.language, variables=request.run_variables)
    if "errorOutput" in mock:
        failure = mock["errorOutput"] or {}
        return Outcome(error=failure.get("error"), cause=failure.get("cause"))
    result = json.loads(mock["result"])
    if request.state["Type"] == "Map" and request.map_failures and not _map_tolerates(
            request.state, request.map_failures, len(result) if isinstance(result, list) else 0):
        # test_state_configuration.snapshot.json: test_map_state_failure_count
        return Outcome(error="States.ExceedToleratedFailureThreshold",
                       cause="The specified tolerated failure threshold was exceeded")
    if (request.language or "JSONPath") == "JSONata":
        return _jsonata_mocked(backend, request, result)
    selector = request.state.get("ResultSelector")
    selected = _pass(backend, {"Parameters": selector}, result, request) if selector else result
    placed = _pass(backend, {"Result": selected, "ResultPath": request.state.get("ResultPath", "$")},
                   request.state_input, request)
    output = _pass(backend, {"OutputPath": request.state["OutputPath"]}, placed, request) \
        if "OutputPath" in request.state else placed
    return Outcome(output=output, next_state=request.state.get("Next"), task_result=result, succeeded=True)


# `$states` whole, as the state sees it once its result (or, in a catcher, its error) is in
# (test_state_configuration.snapshot.json, test_map_state_failure_count: `"Output": "{% $states %}"` answers
# input, context and result; a catcher's, input, context and errorOutput).
_WHOLE_STATES = re.compile(r"\$states(?![\w.\[])")


def _reading_variable(value: Any, field: str, variable: str) -> Any:
    """`value` (a state's or catcher's JSONata fields) with `$states.<field>` read from `$<variable>`."""
    if isinstance(value, str):
        whole = f'{{"input": $states.input, "context": $states.context, "{field}": ${variable}}}'
        return _WHOLE_STATES.sub(whole, value.replace(f"$states.{field}", f"${variable}"))
    if isinstance(value, dict):
        return {k: _reading_variable(v, field, variable) for k, v in value.items()}
    if isinstance(value, list):
        return [_reading_variable(v, field, variable) for v in value]
    return value


def _jsonata_caught(backend: Any, request: Request, catcher: dict[str, Any], error_output: dict[str, Any]) -> Any:
    """A JSONata catcher's Output (default: the error output) and Assign, evaluated on the state's input with
    `$states.errorOutput` the caught error."""
    fields = {k: _reading_variable(catcher[k], "errorOutput", _ERROR_VARIABLE) for k in ("Output", "Assign")
              if k in catcher}
    fields.setdefault("Output", f"{{% ${_ERROR_VARIABLE} %}}")
    return _run(backend, {"Type": "Pass", **fields, "End": True}, request.state_input, name=STAND_IN,
                role=request.role, language="JSONata",
                variables={**(request.run_variables or {}), _ERROR_VARIABLE: error_output}).output


def _jsonata_mocked(backend: Any, request: Request, result: Any) -> Outcome:
    """A JSONata Task's Output and Assign evaluated on the mocked result: a Pass state with the same
    fields, reading the result from a variable where the Task reads `$states.result`."""
    state = request.state
    fields = {k: _reading_variable(state[k], "result", _MOCK_VARIABLE) for k in ("Output", "Assign") if k in state}
    fields.setdefault("Output", f"{{% ${_MOCK_VARIABLE} %}}")
    ending = {"Next": state["Next"]} if "Next" in state else {"End": True}
    outcome = _run(backend, {"Type": "Pass", **fields, **ending}, request.state_input, name=request.name,
                   role=request.role, language="JSONata",
                   variables={**(request.run_variables or {}), _MOCK_VARIABLE: result})
    outcome.task_result = result
    return outcome


def _inspection(backend: Any, request: Request, outcome: Outcome) -> dict[str, Any]:
    """The data after each step of the state's input/output processing (JSONPath states)."""
    state = request.state
    data: dict[str, Any] = {"input": request.state_input}
    if request.variables:
        data["variables"] = request.variables
    if (request.language or "JSONPath") != "JSONPath":
        if outcome.task_parameters is not None:
            data["afterArguments"] = outcome.task_parameters
        elif state.get("Type") == "Task" and "Arguments" in state:  # mocked: the arguments it would have sent
            data["afterArguments"] = _run(backend, {"Type": "Pass", "Output": state["Arguments"], "End": True},
                                          request.state_input, name=STAND_IN, role=request.role,
                                          language="JSONata", variables=request.run_variables).output
        return data
    kind = state["Type"]
    input_path = {"InputPath": state["InputPath"]} if "InputPath" in state else {}
    if kind == "Map":  # its paths up to the items (test_state_machine_with_state_error); settings: `_map_settings`
        data["afterInputPath"] = _pass(backend, input_path, request.state_input, request) if input_path \
            else request.state_input
        items_path = state.get("ItemsPath", "$")
        data["afterItemsPath"] = _pass(backend, {"InputPath": items_path}, data["afterInputPath"], request) \
            if items_path != "$" else data["afterInputPath"]
        return data
    if kind == "Pass" and "Result" in state:
        result = state["Result"]
    else:
        data["afterInputPath"] = _pass(backend, input_path, request.state_input, request) if input_path \
            else request.state_input
        if kind not in ("Pass", "Task"):
            return data
        if kind == "Task" and outcome.task_parameters is not None:
            data["afterParameters"] = outcome.task_parameters
        elif "Parameters" in state:
            data["afterParameters"] = _pass(backend, {**input_path, "Parameters": state["Parameters"]},
                                            request.state_input, request)
        else:
            data["afterParameters"] = data["afterInputPath"]
        if not outcome.succeeded:
            return data
        result = outcome.task_result if kind == "Task" else data["afterParameters"]
    if not outcome.succeeded:
        return data
    if kind == "Task" or "Result" in state:
        data["result"] = result
    selector = state.get("ResultSelector")
    data["afterResultSelector"] = _pass(backend, {"Parameters": selector}, result, request) if selector else result
    data["afterResultPath"] = _pass(backend, {"Result": data["afterResultSelector"],
                                              "ResultPath": state.get("ResultPath", "$")}, request.state_input, request)
    return data


def _map_settings(state: dict[str, Any]) -> dict[str, Any]:
    """A Map state's concurrency and failure tolerance, as numbers (test_state_configuration.snapshot.json)."""
    if state.get("Type") != "Map":
        return {}
    settings: dict[str, Any] = {"maxConcurrency": int(state.get("MaxConcurrency") or 0)}
    if "ToleratedFailureCount" in state:
        settings["toleratedFailureCount"] = int(state["ToleratedFailureCount"])
    if "ToleratedFailurePercentage" in state:
        settings["toleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])
    return settings


def _test_state(self: StepFunctionResponse) -> ActionResult:
    """TestState (moto lacks it): see the module's docstring for what it answers."""
    backend = self.stepfunction_backend
    request = read_request(self)
    outcome = _outcome(backend, request)
    response: dict[str, Any] = {}
    details: dict[str, Any] = {}
    if outcome.succeeded:
        response.update({"status": "SUCCEEDED", "output": json_text(outcome.output)})
        if outcome.next_state is not None:
            response["nextState"] = outcome.next_state
    else:
        response.update({"status": "FAILED", "error": outcome.error, "cause": outcome.cause})
        retriers = [r for r in request.state.get("Retry") or [] if isinstance(r, dict)]
        catchers = [c for c in request.state.get("Catch") or [] if isinstance(c, dict)]
        retry_index = next((i for i, r in enumerate(retriers) if _error_matches(r.get("ErrorEquals"), outcome.error)),
                           None)
        if retry_index is not None:
            details["retryIndex"] = retry_index
            retrier = retriers[retry_index]
            if request.retry_count < int(retrier.get("MaxAttempts", 3)):
                response["status"] = "RETRIABLE"
                details["retryBackoffIntervalSeconds"] = _backoff(retrier, request.retry_count)
        catch_index = next((i for i, c in enumerate(catchers) if _error_matches(c.get("ErrorEquals"), outcome.error)),
                           None)
        if response["status"] == "FAILED" and catch_index is not None:
            catcher = catchers[catch_index]
            error_output = {"Error": outcome.error, "Cause": outcome.cause}
            if (request.language or "JSONPath") == "JSONata":
                output = _jsonata_caught(backend, request, catcher, error_output)
            else:
                output = _pass(backend, {"Result": error_output, "ResultPath": catcher.get("ResultPath", "$")},
                               request.state_input, request)
            response.update({"status": "CAUGHT_ERROR", "nextState": catcher.get("Next"), "output": json_text(output)})
            details = {"catchIndex": catch_index}
    if request.level in ("DEBUG", "TRACE"):
        inspection: dict[str, Any] = {k: json_text(v) for k, v in _inspection(backend, request, outcome).items()}
        inspection.update(_map_settings(request.state))
        if details:
            inspection["errorDetails"] = details
        response["inspectionData"] = inspection
    return ActionResult({k: v for k, v in response.items() if v is not None})


register([(StepFunctionResponse, "test_state", _test_state)],  # added: moto has no TestState action
         [Seam(StepFunctionResponse, "test_state", (),
               "Adds TestState, which moto lacks: one state run on an input, answered with AWS's `status`, "
               "`output`, `nextState`, `error`/`cause` and `inspectionData`", adds=True,
               proved_by="tests/sim/aws/sfn/test_test_state.py::test_a_pass_state_shows_each_processing_step")])
