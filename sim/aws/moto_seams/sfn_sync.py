"""Synchronous Step Functions APIs moto lacks: StartSyncExecution (Express workflows) and TestState.

Both are served on AWS under the `sync-` host prefix; a boto3 client pointed at the simulator must not
add it (`Config(inject_host_prefix=False)`, e.g. `aws.client("stepfunctions", inject_host_prefix=False)`),
since `sync-127.0.0.1` does not resolve. The actions are added to moto's response class (moto has no
attribute to patch); the completion signal they wait on is a registered patch.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.responses import StepFunctionResponse

from sim import clock
from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_api import InvalidDefinition, json_text

__all__ = ["wait_until_finished"]

# AWS stops a synchronous Express execution after five minutes.
SYNC_EXECUTION_TIMEOUT_S = 300.0
_ORIGINAL_TERMINATED = BaseExecutionWorkerCommunication.terminated
_lock = threading.Lock()
_DONE = "_stepbricks_done"


class StateMachineTypeNotSupported(AWSError):
    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400


def _done_event(execution: Any) -> threading.Event:
    with _lock:
        event = execution.__dict__.get(_DONE)
        if event is None:
            event = clock.ClockEvent()  # notifies the clock when set, so waiters wake at once
            execution.__dict__[_DONE] = event
        return event


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    """Wraps `BaseExecutionWorkerCommunication.terminated`: also signals waiters that the execution ended
    (StartSyncExecution and TestState answer only then, as on AWS)."""
    try:
        _ORIGINAL_TERMINATED(self)
    finally:
        _done_event(self.execution).set()


def wait_until_finished(execution: Any, timeout_s: float = SYNC_EXECUTION_TIMEOUT_S) -> bool:
    """Block (on the simulator's clock) until the interpreter's `execution` has ended."""
    return clock.get().wait(_done_event(execution), timeout_s)


def _interpreter_execution(backend: Any, execution_arn: str) -> Any:
    return backend.describe_execution(execution_arn)


def _start_sync_execution(self: StepFunctionResponse) -> ActionResult:
    """StartSyncExecution: runs an Express state machine to its end and answers with its result
    (status SUCCEEDED/FAILED/TIMED_OUT, output or error/cause, billingDetails)."""
    backend = self.stepfunction_backend
    arn = self._get_param("stateMachineArn")
    machine = backend.describe_state_machine(arn)
    if getattr(machine, "type", "STANDARD") != "EXPRESS":
        raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
    name = self._get_param("name") or sim_context.current().ids.uuid("execution")
    execution = backend.start_execution(arn, name=name, execution_input=self._get_param("input") or "{}",
                                        trace_header=self._get_param("traceHeader"))
    finished = wait_until_finished(_interpreter_execution(backend, execution.execution_arn))
    described = _interpreter_execution(backend, execution.execution_arn)
    status = str(getattr(described.status, "value", described.status)) if finished else "TIMED_OUT"
    response: dict[str, Any] = {
        "executionArn": described.execution_arn, "stateMachineArn": arn, "name": name,
        "startDate": described.start_date, "stopDate": described.stop_date or clock.get().utcnow(),
        "status": status, "input": described.execution_input, "inputDetails": {"included": True},
    }
    if status == "SUCCEEDED":
        response["output"] = json_text(described.output)
        response["outputDetails"] = {"included": True}
    for key in ("error", "cause"):
        if getattr(described, key, None) is not None:
            response[key] = getattr(described, key)
    elapsed_ms = max(1, int((response["stopDate"] - described.start_date).total_seconds() * 1000))
    # Express bills 64 MB blocks and 100 ms increments ("Step Functions pricing").
    response["billingDetails"] = {"billedMemoryUsedInMB": 64,
                                  "billedDurationInMilliseconds": -(-elapsed_ms // 100) * 100}
    return ActionResult(response)


def _targets(state: dict[str, Any]) -> list[str]:
    found = [state.get("Next"), state.get("Default")]
    found += [c.get("Next") for c in state.get("Choices") or [] if isinstance(c, dict)]
    found += [c.get("Next") for c in state.get("Catch") or [] if isinstance(c, dict)]
    return [t for t in found if isinstance(t, str)]


def _test_state(self: StepFunctionResponse) -> ActionResult:
    """TestState: runs one state on `input` and answers with output, nextState, or error/cause and status
    (SUCCEEDED, FAILED, CAUGHT_ERROR); `inspectionLevel` INFO adds inspectionData.input/afterResultPath.

    The state runs inside a throwaway Express machine whose other states stand in for its targets,
    so Choice routing and Catch see what they see on AWS; Retry is not attempted (AWS's TestState
    answers RETRIABLE without retrying)."""
    backend = self.stepfunction_backend
    try:
        state = json.loads(self._get_param("definition") or "")
    except ValueError as exc:
        raise InvalidDefinition(f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'") from None
    state = copy.deepcopy(state)
    under_test = "TestState"
    retry = state.pop("Retry", None)
    stand_ins = {t: {"Type": "Succeed"} for t in _targets(state) if t != under_test}
    definition = {"StartAt": under_test, "States": {under_test: state, **stand_ins}}
    if "QueryLanguage" in state:
        definition["QueryLanguage"] = state["QueryLanguage"]
    role = self._get_param("roleArn") or "arn:aws:iam::123456789012:role/TestState"
    machine = backend.create_state_machine(name=f"teststate-{sim_context.current().ids.hex('test-state', 12)}", definition=json.dumps(definition),
                                           roleArn=role, sm_type="EXPRESS")
    try:
        execution = backend.start_execution(machine.arn, name=sim_context.current().ids.uuid("execution"),
                                            execution_input=self._get_param("input") or "{}")
        wait_until_finished(_interpreter_execution(backend, execution.execution_arn))
        described = _interpreter_execution(backend, execution.execution_arn)
        events = backend.get_execution_history(execution.execution_arn)["events"]
    finally:
        backend.delete_state_machine(machine.arn)
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    next_state = next((name for name in entered if name != under_test), None)
    state_input = next((e["stateEnteredEventDetails"].get("input") for e in events
                        if e.get("stateEnteredEventDetails", {}).get("name") == under_test), None)
    exited = [e["stateExitedEventDetails"] for e in events
              if e.get("stateExitedEventDetails", {}).get("name") == under_test]
    response: dict[str, Any] = {}
    status = str(getattr(described.status, "value", described.status))
    failures = [e.get(k) for e in events for k in e if k.endswith("FailedEventDetails") and k != "executionFailedEventDetails"]
    if next_state is not None and exited:
        response.update({"output": exited[-1].get("output"), "nextState": next_state,
                         "status": "CAUGHT_ERROR" if failures else "SUCCEEDED"})
        if failures:
            response.update({"error": failures[0].get("error"), "cause": failures[0].get("cause")})
    elif status == "SUCCEEDED":
        response.update({"output": json_text(described.output), "status": "SUCCEEDED"})
    else:
        retriable = any(isinstance(r, dict) and (set(r.get("ErrorEquals") or []) & {described.error, "States.ALL"})
                        for r in retry or [])
        response.update({"error": described.error, "cause": described.cause,
                         "status": "RETRIABLE" if retriable else "FAILED"})
    if self._get_param("inspectionLevel") in ("INFO", "DEBUG", "TRACE"):
        response["inspectionData"] = {k: v for k, v in {"input": state_input,
                                                         "afterResultPath": response.get("output")}.items() if v}
    return ActionResult({k: v for k, v in response.items() if v is not None})


register(
    [(StepFunctionResponse, "start_sync_execution", _start_sync_execution),  # added: moto has no such actions
     (StepFunctionResponse, "test_state", _test_state),
     (BaseExecutionWorkerCommunication, "terminated", _terminated)],
    [Seam(BaseExecutionWorkerCommunication, "terminated", ("self",), _terminated.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_start_sync_execution_answers_with_the_express_result"),
     Seam(StepFunctionResponse, "start_sync_execution", (), _start_sync_execution.__doc__ or "", adds=True,
          proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_start_sync_execution_answers_with_the_express_result"),
     Seam(StepFunctionResponse, "test_state", (), _test_state.__doc__ or "", adds=True,
          proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_test_state_reports_the_choice_it_takes")],
)
