"""Synchronous Step Functions APIs moto lacks: StartSyncExecution (Express workflows) here, TestState in
`sfn_test_state` (which runs its state to the end with `wait_until_finished`).

Both are served on AWS under the `sync-` host prefix; a boto3 client pointed at the simulator must not
add it (`Config(inject_host_prefix=False)`, e.g. `aws.client("stepfunctions", inject_host_prefix=False)`),
since `sync-127.0.0.1` does not resolve. The actions are added to moto's response class (moto has no
attribute to patch); the completion signal they wait on is a registered patch.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.responses import StepFunctionResponse

from sim import clock
from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_api import json_text

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


register(
    [(StepFunctionResponse, "start_sync_execution", _start_sync_execution),  # added: moto has no such action
     (BaseExecutionWorkerCommunication, "terminated", _terminated)],
    [Seam(BaseExecutionWorkerCommunication, "terminated", ("self",), _terminated.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_start_sync_execution_answers_with_the_express_result"),
     Seam(StepFunctionResponse, "start_sync_execution", (), _start_sync_execution.__doc__ or "", adds=True,
          proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_start_sync_execution_answers_with_the_express_result")],
)
