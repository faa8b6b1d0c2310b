"""What an execution sees of itself, and what its history says when part of it is cut short: the context
object (`$$`, `$states.context`) as AWS fills it, an execution stopped before its thread ran, and
`TaskStateAborted` for a Task whose failure ends a Parallel branch.

Registered with `core.register` at import.
"""

from __future__ import annotations

import time
from typing import Any

from moto.stepfunctions.parser.api import ExecutionAbortedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import BranchWorker
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ORIGINAL_ENVIRONMENT = ExecutionWorker._get_evaluation_environment
# The order AWS lists the context object's Execution fields in (recorded `$$` outputs).
_EXECUTION_FIELDS = ("Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount")


def _evaluation_environment(self: ExecutionWorker) -> Any:
    """Wraps `ExecutionWorker._get_evaluation_environment`.

    Restores: the context object's `Execution.RedriveCount` (0 on a first run, as recorded on AWS:
    `{"Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount"}`); moto left it out, so
    `$$.Execution.RedriveCount` failed the state.
    """
    env = _ORIGINAL_ENVIRONMENT(self)
    data = env.states.context_object.context_object_data
    execution = dict(data["Execution"])
    execution.setdefault("RedriveCount", int(getattr(self, "redrive_count", 0) or 0))
    ordered = {key: execution[key] for key in _EXECUTION_FIELDS if key in execution}
    ordered.update({key: value for key, value in execution.items() if key not in ordered})
    data["Execution"] = ordered
    return env


_ORIGINAL_STOP = ExecutionWorker.stop
_STARTING_SECONDS = 30.0  # how long a stop waits for the execution's thread to start its program


def _stop(self: ExecutionWorker, stop_date: Any, error: str | None, cause: str | None) -> None:
    """Wraps `ExecutionWorker.stop`: waits until the execution's program has started, then stops it.

    Restores: `StopExecution` right after `StartExecution` aborts the execution (ExecutionStarted, then
    ExecutionAborted), as on AWS. moto's thread parses the definition, then builds the environment, and only
    `Program.eval` puts it in the running state a stop acts on: a stop before the environment existed
    answered 500 (`'NoneType' object has no attribute 'set_stop'`), and one before the program ran was
    dropped, the execution running on.
    """
    deadline = time.monotonic() + _STARTING_SECONDS
    while (self.env is None or self.env.program_state() is None) and time.monotonic() < deadline:
        time.sleep(0.002)  # a few ms at most: the thread was started with the execution
    _ORIGINAL_STOP(self, stop_date=stop_date, error=error, cause=cause)


_ORIGINAL_PROGRAM_EVAL = Program.eval


def _program_eval(self: Program, env: Any) -> None:
    """Wraps `Program.eval`: a program stopped before its body ran still records `ExecutionAborted`.

    Restores: the stopped execution's history ends with ExecutionAborted. moto's body runs only while the
    program is running (`EvalComponent.eval`), and only the body records the terminal event, so a stop that
    landed between the program's start and its body's first step left ABORTED with a history of
    ExecutionStarted alone (1 stop in 5 right after the start, on a loaded machine). A second terminal
    event is never recorded (`sfn_history`), so one the body did record stands.
    """
    _ORIGINAL_PROGRAM_EVAL(self, env)
    stopped = env.program_state()
    if env.is_frame() or not isinstance(stopped, ProgramStopped):
        return
    env.event_history_context.source_event_id = 0
    env.event_manager.add_event(
        context=env.event_history_context, event_type=HistoryEventType.ExecutionAborted,
        event_details=EventDetails(executionAbortedEventDetails=ExecutionAbortedEventDetails(
            error=stopped.error, cause=stopped.cause)))


# -- aborted states ----------------------------------------------------------------------------------

_BRANCH = "_stepbricks_parallel_branch"
_ORIGINAL_BRANCH_ROUTINE = BranchWorker._thread_routine
_ORIGINAL_HANDLE_UNCAUGHT = ExecutionState._handle_uncaught


def _branch_routine(self: BranchWorker) -> None:
    """Wraps `BranchWorker._thread_routine`: marks the branch's environment as a Parallel branch's."""
    self.env.__dict__[_BRANCH] = True
    _ORIGINAL_BRANCH_ROUTINE(self)


def _handle_uncaught(self: ExecutionState, env: Any, failure_event: Any) -> None:
    """Wraps `ExecutionState._handle_uncaught`.

    Restores: a Task whose uncaught failure ends its Parallel branch records `TaskStateAborted` after its
    `TaskFailed`, as AWS does (recorded: `TaskStarted, TaskFailed, TaskStateAborted, ParallelState…`,
    LocalStack's tests/aws/services/stepfunctions/v2/states_variables/test_error_output.snapshot.json and
    callback/test_callback.snapshot.json); moto recorded nothing for the state.
    """
    if isinstance(self, StateTask) and env.__dict__.get(_BRANCH) and env.is_running():
        env.event_manager.add_event(context=env.event_history_context, event_type=HistoryEventType.TaskStateAborted)
    _ORIGINAL_HANDLE_UNCAUGHT(self, env, failure_event)


register(
    [(ExecutionWorker, "_get_evaluation_environment", _evaluation_environment),
     (ExecutionWorker, "stop", _stop),
     (Program, "eval", _program_eval),
     (BranchWorker, "_thread_routine", _branch_routine),
     (ExecutionState, "_handle_uncaught", _handle_uncaught)],
    [Seam(ExecutionWorker, "_get_evaluation_environment", ("self",), _evaluation_environment.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_execution_semantics.py::test_context_object_execution_has_redrive_count_zero_on_a_first_run"),
     Seam(ExecutionWorker, "stop", ("self", "stop_date", "error", "cause"), _stop.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_execution_semantics.py::test_an_execution_stopped_before_its_thread_runs_is_aborted_not_a_500"),
     Seam(Program, "eval", ("self", "env"), _program_eval.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_execution_semantics.py::test_a_program_stopped_before_its_body_ran_records_its_abort"),
     Seam(BranchWorker, "_thread_routine", ("self",), _branch_routine.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_execution_semantics.py::test_task_failing_its_parallel_branch_is_recorded_as_aborted_after_its_failure"),
     Seam(ExecutionState, "_handle_uncaught", ("self", "env", "failure_event"), _handle_uncaught.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_execution_semantics.py::test_task_failing_its_parallel_branch_is_recorded_as_aborted_after_its_failure")],
)
