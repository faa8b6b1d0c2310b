"""Service integrations moto's interpreter left unfinished: nested Step Functions executions
(`states:startExecution`, `.sync`, `.sync:2`) and activities (GetActivityTask, worker callbacks).

Registered with `core.register` at import; GetActivityTask, which moto lacks, is added to its
response class.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import ActivityDoesNotExist as MotoActivityDoesNotExist
from moto.stepfunctions.parser.api import ActivityDoesNotExist as ParserActivityDoesNotExist
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_activitiy import (
    StateTaskActivity,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import ActivityCallbackEndpoint, CallbackPoolManager
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client
from moto.stepfunctions.parser.backend.activity import Activity
from moto.stepfunctions.responses import StepFunctionResponse, get_backend

from sim import clock
from sim import context as sim_context
from sim.aws.moto_seams import core
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_services import call_with_metadata

__all__ = ["ACTIVITY_POLL_S"]

# GetActivityTask long-polls for up to 60 seconds, then answers without a task (API reference).
ACTIVITY_POLL_S = 60.0
_ORIGINAL_SFN_NORMALISE = StateTaskServiceSfn._normalise_parameters
_ORIGINAL_SFN_EVAL = StateTaskServiceSfn._eval_service_task
_ORIGINAL_ADD_ACTIVITY_TASK = CallbackPoolManager.add_activity_task


# -- nested executions ------------------------------------------------------------------------------

# Left as they are: the child's own input and output, and the SDK metadata (header names keep their case).
_USER_DATA = {"input", "output", "SdkHttpMetadata", "SdkResponseMetadata"}


def _pascal(value: Any) -> Any:
    """The optimised integration's output shape: PascalCase keys, dates as epoch milliseconds; the
    child's own input and output (parsed JSON under `.sync:2`) are left as they are."""
    if isinstance(value, dict):
        return {(k[:1].upper() + k[1:]): (v if k in _USER_DATA else _pascal(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    return value


def _sfn_normalise_parameters(self: StateTaskServiceSfn, parameters: dict, boto_service_name: str | None = None,
                              service_action_name: str | None = None) -> None:
    """Wraps `StateTaskServiceSfn._normalise_parameters`.

    Restores: `states:startExecution[.sync[:2]]` starts the child with the state's `StateMachineArn`,
    `Input` and `Name` (moto passed the PascalCase keys to boto3, which dropped them, so every nested
    start failed with States.Runtime 'StateMachineArn').
    """
    _ORIGINAL_SFN_NORMALISE(self, parameters, boto_service_name=boto_service_name,
                            service_action_name=service_action_name)
    if service_action_name is None:
        for key in [k for k in parameters if k[:1].isupper()]:
            parameters[key[:1].lower() + key[1:]] = parameters.pop(key)
        if self._get_boto_service_action() == "start_execution" and not parameters.get("name"):
            # AWS names an unnamed execution with a UUID; moto would name every one "None".
            parameters["name"] = sim_context.current().ids.uuid("execution")


def _sfn_normalise_response(self: StateTaskServiceSfn, response: Any, boto_service_name: str | None = None,
                            service_action_name: str | None = None) -> None:
    """Fills `StateTaskServiceSfn._normalise_response` (a no-op in moto).

    Restores: the child's result as AWS shows it, `{"ExecutionArn", "StartDate"}` for a plain start and
    DescribeExecution's fields in PascalCase with epoch-millisecond dates for `.sync`/`.sync:2` (also as
    the cause of a failed child), with `InputDetails: {"Included": true}` beside `Input` and the keys in
    alphabetical order, as recorded on AWS.
    """
    if isinstance(response, dict):
        normalised = _pascal(response)
        if "Input" in normalised:
            normalised.setdefault("InputDetails", {"Included": True})
        response.clear()
        response.update({key: normalised[key] for key in sorted(normalised, key=str.lower)})


def _sfn_eval_service_task(self: StateTaskServiceSfn, env: Any, resource_runtime_part: Any,
                           normalised_parameters: dict, state_credentials: Any) -> None:
    """Wraps `StateTaskServiceSfn._eval_service_task`: its start response gets AWS's shape too, with the
    SDK's `SdkHttpMetadata`/`SdkResponseMetadata` as AWS adds them to StartExecution's result (the Task's
    output, or the TaskSubmitted event's under `.sync`)."""
    if self._get_boto_service_action() == "start_execution":
        env.stack.append(call_with_metadata(self, resource_runtime_part.region, state_credentials,
                                            normalised_parameters))
    else:
        _ORIGINAL_SFN_EVAL(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    _sfn_normalise_response(self, env.stack[-1])


# -- activities ------------------------------------------------------------------------------------

@dataclass
class _ActivityQueues:
    """A simulator's activity task queues and their arrival events (per simulator: `sim.context`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    activities: dict[str, Activity] = field(default_factory=dict)
    arrivals: dict[str, threading.Event] = field(default_factory=dict)


def _queues() -> _ActivityQueues:
    return sim_context.current().memo("sfn-activity-queues", _ActivityQueues)


def _moto_backend(activity_arn: str) -> Any:
    """The backend the API serves (the interpreter's when execution is on), as StepFunctionResponse picks it."""
    parts = activity_arn.split(":")
    return get_backend(parts[4], parts[3])


def _queue(activity_arn: str) -> Activity:
    """The task queue of an activity that exists in moto's backend (raises its ActivityDoesNotExist)."""
    _moto_backend(activity_arn).describe_activity(activity_arn)
    queues = _queues()
    with queues.lock:
        activity = queues.activities.get(activity_arn)
        if activity is None:
            activity = Activity(arn=activity_arn, name=activity_arn.rsplit(":", 1)[-1])
            queues.activities[activity_arn] = activity
            queues.arrivals[activity_arn] = clock.ClockEvent()
        return activity


def _add_activity_task(self: CallbackPoolManager, callback_id: str, activity_arn: str,
                       activity_input: str) -> ActivityCallbackEndpoint:
    """Wraps `CallbackPoolManager.add_activity_task`.

    Restores: an activity Task schedules its input on the activity created with CreateActivity, for a
    worker's GetActivityTask (moto gave each execution an empty activity store, so every activity
    Task failed with States.Runtime).
    """
    try:
        activity = _queue(activity_arn)
    except MotoActivityDoesNotExist:
        raise ParserActivityDoesNotExist(f"Activity Does Not Exist: {activity_arn}") from None  # fails the execution (below)
    self._activity_store[activity_arn] = activity
    endpoint = _ORIGINAL_ADD_ACTIVITY_TASK(self, callback_id, activity_arn, activity_input)
    queues = _queues()
    with queues.lock:
        arrival = queues.arrivals.get(activity_arn)
    if arrival is not None:
        arrival.set()
    return endpoint


_ORIGINAL_ACTIVITY_EVAL = StateTaskActivity._eval_execution
# moto's cause for a missing activity, with LocalStack's snapshot placeholder left in it.
_MOTO_MISSING_ACTIVITY_CAUSE = "The activity activity_arn does not exist."


def _activity_eval_execution(self: StateTaskActivity, env: Any) -> None:
    """Wraps `StateTaskActivity._eval_execution`.

    Restores: an activity Task on an activity that does not exist (any longer) fails the execution with
    States.Runtime "… The activity arn:aws:states:…:activity:x does not exist." and no Activity event, as
    recorded on AWS; moto named the activity `activity_arn`.
    """
    try:
        _ORIGINAL_ACTIVITY_EVAL(self, env)
    except FailureEventException as ex:
        details = ex.failure_event.event_details.get("executionFailedEventDetails") or {}
        if details.get("cause") == _MOTO_MISSING_ACTIVITY_CAUSE:
            details["cause"] = f"The activity {self.resource.resource_arn} does not exist."
        raise


def _take_task(activity_arn: str) -> Any:
    activity = _queue(activity_arn)
    deadline = clock.now() + ACTIVITY_POLL_S
    queues = _queues()
    while True:
        with queues.lock:
            arrival = queues.arrivals[activity_arn]
            try:
                return activity.get_task()
            except IndexError:
                arrival.clear()
        remaining = deadline - clock.now()
        if remaining <= 0:
            return None
        clock.get().wait(arrival, remaining)


def _get_activity_task(self: StepFunctionResponse) -> ActionResult:
    """GetActivityTask (moto lacks it): long-polls for a task of the activity, records ActivityStarted
    with the worker's name, and answers `{taskToken, input}`, or nothing after 60 seconds."""
    activity_arn = self._get_param("activityArn")
    task = _take_task(activity_arn)
    if task is None:
        return ActionResult({})
    worker = self._get_param("workerName")
    for execution in self.stepfunction_backend._get_executions():
        worker_state = getattr(execution, "exec_worker", None)
        endpoint = worker_state.env.callback_pool_manager.get(task.task_token) if worker_state else None
        if isinstance(endpoint, ActivityCallbackEndpoint):
            endpoint.notify_activity_task_start(worker_name=worker)
            break
    return ActionResult({"taskToken": task.task_token, "input": task.task_input})



register(
    [
        (StepFunctionResponse, "get_activity_task", _get_activity_task),
        (StateTaskServiceSfn, "_normalise_parameters", _sfn_normalise_parameters),
        (StateTaskServiceSfn, "_normalise_response", _sfn_normalise_response),
        (StateTaskServiceSfn, "_eval_service_task", _sfn_eval_service_task),
        (CallbackPoolManager, "add_activity_task", _add_activity_task),
        (StateTaskActivity, "_eval_execution", _activity_eval_execution),
        (sfn_boto_client, "moto_server_port", core.moto_server_port),
    ],
    [
        Seam(StateTaskServiceSfn, "_normalise_parameters",
             ("self", "parameters", "boto_service_name", "service_action_name"), _sfn_normalise_parameters.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_integrations.py::test_start_execution_sync_2_returns_the_childs_output_as_json"),
        Seam(StateTaskServiceSfn, "_normalise_response",
             ("self", "response", "boto_service_name", "service_action_name"), _sfn_normalise_response.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_integrations.py::test_start_execution_sync_waits_and_returns_the_childs_output_as_text"),
        Seam(StateTaskServiceSfn, "_eval_service_task",
             ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
             _sfn_eval_service_task.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_integrations.py::test_start_execution_returns_the_childs_arn_and_start_date"),
        Seam(CallbackPoolManager, "add_activity_task", ("self", "callback_id", "activity_arn", "activity_input"),
             _add_activity_task.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_integrations.py::test_activity_worker_gets_the_task_and_its_success_completes_the_state"),
        Seam(StepFunctionResponse, "get_activity_task", (), _get_activity_task.__doc__ or "", adds=True,
             proved_by="tests/sim/aws/sfn/test_integrations.py::test_activity_worker_gets_the_task_and_its_success_completes_the_state"),
        Seam(sfn_boto_client, "moto_server_port", (), core.moto_server_port.__doc__ or "",
             proved_by="tests/sim/test_context.py::test_two_simulators_side_by_side_keep_clocks_plans_state_and_ids_apart"),
        Seam(StateTaskActivity, "_eval_execution", ("self", "env"), _activity_eval_execution.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_integrations.py::test_activity_task_on_a_deleted_activity_fails_the_execution_naming_it"),
    ],
)
