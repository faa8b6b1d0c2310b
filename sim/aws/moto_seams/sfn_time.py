"""Step Functions on the simulator's clock.

moto's ASL interpreter reads the wall clock in many places (grep `time.sleep`, `datetime.now`,
`time.time`, `.wait(` under moto/stepfunctions): Wait states, Retry back-off, task `TimeoutSeconds`,
`HeartbeatSeconds` and callback waits, the state machine's own `TimeoutSeconds`, and every timestamp in
an execution history. Each is routed through `sim.clock` here, so a `VirtualClock` skips them.

Two kinds of patch, each a registered `Seam`:
- module globals: where moto did `import threading` / `import time` / `import datetime` (or `from
  threading import Thread, Event`), the module's name is pointed at a clock-aware stand-in. Threads the
  interpreter starts become `ActorThread`s (busy while they run: an execution between two states is
  real work), its events `ClockEvent`s (waiting on them releases the claim and, with a timeout, is a
  timer the clock can skip to).
- functions whose arithmetic itself is wrong for a clock that jumps (Wait's re-wait on a truncated
  `int` of elapsed seconds, Timestamp's naive local `now()`), and Retry's `JitterStrategy: FULL`, which
  drew from the process-global `random` and now draws from a generator seeded per execution.
"""

from __future__ import annotations

import datetime as _datetime
import random
import threading
import types
from typing import Any

from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.retry.jitter_strategy_decl import (
    JitterStrategy,
    JitterStrategyDecl,
)
from moto.stepfunctions.parser.asl.component.program import program
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    inline_iteration_component,
    job,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    map_run_record,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branch_worker, branches_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as timestamp_module
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval import environment
from moto.stepfunctions.parser.asl.eval.callback import callback
from moto.stepfunctions.parser.asl.eval.event import event_manager
from moto.stepfunctions.parser.backend import execution, execution_worker

from sim import clock, context
from sim.aws.moto_seams.core import Seam, register

__all__ = ["ProgramThread", "TaskDeadline", "execution_arn_of"]


# -- clock-aware stand-ins for the modules moto imported --------------------------------------------

class _ClockDatetime(_datetime.datetime):
    """`datetime.datetime` whose `now()` / `utcnow()` read the simulator clock (instances are plain
    datetimes, so comparisons and arithmetic are unchanged)."""

    @classmethod
    def now(cls, tz: _datetime.tzinfo | None = None) -> _datetime.datetime:  # type: ignore[override]
        return _datetime.datetime.fromtimestamp(clock.now(), tz)

    @classmethod
    def utcnow(cls) -> _datetime.datetime:  # type: ignore[override]
        return _datetime.datetime.fromtimestamp(clock.now(), _datetime.UTC).replace(tzinfo=None)


def _stand_in(name: str, real: types.ModuleType, **overrides: Any) -> types.ModuleType:
    """A module object that is `real` except for `overrides`."""
    module = types.ModuleType(f"stepbricks.clock.{name}")
    module.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
    module.__dict__.update(overrides)
    return module


CLOCK_DATETIME = _stand_in("datetime", _datetime, datetime=_ClockDatetime)
CLOCK_TIME = types.SimpleNamespace(time=clock.now, sleep=clock.sleep,
                                   monotonic=lambda: clock.get().monotonic(),
                                   time_ns=lambda: int(clock.now() * 1e9))
CLOCK_THREADING = _stand_in("threading", threading, Thread=clock.ActorThread, Event=clock.ClockEvent)


class TaskDeadline(clock.ClockEvent):
    """The event a task state's parent waits on for `TimeoutSeconds`, counted from the event's making.

    moto makes it, starts the task's thread, then waits `timeout` from the wait's start: a parent held up
    between the two (a loaded machine) armed its timer after the task was scheduled, and the history
    showed a 3,600 s timeout as 3,601.05 s after TaskScheduled. AWS counts from the task's start."""

    def __init__(self) -> None:
        super().__init__()
        self._made_at = clock.now()

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None or timeout >= clock.FOREVER_S:
            return super().wait(timeout)
        return super().wait(max(0.0, self._made_at + timeout - clock.now()))


TASK_THREADING = _stand_in("threading", threading, Thread=clock.ActorThread, Event=TaskDeadline)


class ProgramThread(clock.ActorThread):
    """The thread `Program.eval` starts and then joins for the state machine's `TimeoutSeconds`: the join's
    timeout counts from the thread's start, so a parent held up between the two does not lengthen it."""

    def start(self) -> None:
        self._sb_started_at = clock.now()
        super().start()

    def join(self, timeout: float | None = None) -> None:
        if timeout is not None and timeout < clock.FOREVER_S:
            timeout = max(0.0, self._sb_started_at + timeout - clock.now())
        super().join(timeout)


PROGRAM_THREADING = _stand_in("threading", threading, Thread=ProgramThread, Event=clock.ClockEvent)


# -- functions --------------------------------------------------------------------------------------

def _entered_at(env: Any) -> float | None:
    """The clock time the current state was entered (the context object's `State.EnteredTime`), if known."""
    try:
        entered = env.states.context_object.context_object_data["State"]["EnteredTime"]
        return _datetime.datetime.fromisoformat(entered).timestamp()
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _wait_interval(self: WaitFunction, env: Any, wait_seconds: float) -> None:
    """Replaces `WaitFunction._wait_interval`.

    Restores: a Wait of seconds lasts exactly its seconds on the simulator clock from the state's entry, as
    AWS records WaitStateExited, and a Timestamp wait ends at its timestamp (moto re-waited on `int()` of
    wall-clock elapsed time, counted from when the thread got to wait: a thread held up after entering the
    state lengthened the Wait); either ends early only when the execution stops (StopExecution)."""
    now = clock.now()
    entered = None if isinstance(self, Timestamp) else _entered_at(env)  # a Timestamp's seconds count from now
    deadline = (entered if entered is not None and entered <= now else now) + wait_seconds
    while env.is_running():
        remaining = deadline - clock.now()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)  # a ClockEvent: releases the execution's busy claim


def _timestamp_wait_seconds(self: Timestamp, env: Any) -> float:
    """Replaces `Timestamp._get_wait_seconds` (Wait `Timestamp` / `TimestampPath`).

    Restores: the timestamp is UTC (`...Z`) and is compared with the simulator's UTC time; moto compared
    it with the machine's naive local time. A timestamp in the past ends the Wait at once, as on AWS."""
    self.string.eval(env=env)
    timestamp_str: str = env.stack.pop()
    timestamp = self._from_timestamp_string(timestamp=timestamp_str)
    if timestamp is None:
        raise timestamp_module.FailureEventException(self._create_failure_event(env, timestamp_str))
    target = timestamp.replace(tzinfo=_datetime.UTC)
    return max((target - clock.utcnow()).total_seconds(), 0.0)


# A task that misses its HeartbeatSeconds is left to moto: TaskTimedOut with `States.Timeout`, which is what
# executions recorded on AWS show (LocalStack's tests/aws/services/stepfunctions/v2/timeouts/
# test_heartbeats.snapshot.json, test_heartbeat_timeout), although the developer guide lists a
# `States.HeartbeatTimeout` name.


def execution_arn_of(env: Any) -> str:
    """The execution ARN an interpreter environment belongs to (from its context object)."""
    try:
        return str(env.states.context_object.context_object_data["Execution"]["Id"])
    except (AttributeError, KeyError, TypeError):
        return ""


def _jitter(self: JitterStrategyDecl, env: Any) -> None:
    """Replaces `JitterStrategyDecl._eval_body`.

    Restores: `FULL` jitter is a uniform draw in [0, interval] as on AWS, but from a seeded generator per
    execution (moto used the global `random`), so a retried execution's intervals are reproducible."""
    if self.jitter_strategy == JitterStrategy.NONE:
        return
    interval_seconds = env.stack.pop()
    arn = execution_arn_of(env)
    ctx = context.current()
    rng = ctx.memo(("jitter", arn), lambda: random.Random(f"{ctx.seed}:{arn}"))
    with ctx.lock:
        env.stack.append(rng.uniform(0, interval_seconds))


# -- registry ---------------------------------------------------------------------------------------

_THREAD_PARAMS = ("group", "target", "name", "args", "kwargs", "daemon")
_W = "tests/sim/clock/test_step_functions_waits.py::"
_R = "tests/sim/clock/test_step_functions_retry_and_timeouts.py::"
_HOUR_OF_WAIT = _W + "test_an_hour_of_wait_seconds_finishes_in_seconds_with_exact_history_timestamps"
_SIDE_BY_SIDE = "tests/sim/test_context.py::test_two_simulators_side_by_side_keep_clocks_plans_state_and_ids_apart"
# owner, name, stand-in, what it restores, the test that fails without it
_GLOBALS: list[tuple[Any, str, Any, str, str]] = [
    (execution_worker, "Thread", clock.ActorThread,
     "each execution's interpreter thread is an actor: busy except while it waits through the clock, and "
     "it works for the simulator that started the execution", _SIDE_BY_SIDE),
    (execute_state, "Thread", clock.ActorThread,
     "a task runs on an actor thread that works for the simulator of its execution (its clock, plan and "
     "port); its parent waits for it (TimeoutSeconds) on the clock", _SIDE_BY_SIDE),
    (execute_state, "threading", TASK_THREADING,
     "task TimeoutSeconds (`terminated_event.wait(timeout)`) is a timer on the simulator clock, counted "
     "from the task's start",
     _R + "test_callback_task_times_out_after_timeout_seconds_of_simulator_time"),
    (program, "threading", PROGRAM_THREADING,
     "the state machine's TimeoutSeconds (`join(timeout)`) is measured on the simulator clock, from the "
     "execution's start",
     _W + "test_state_machine_timeout_seconds_times_the_execution_out_on_the_simulator_clock"),
    (inline_iteration_component, "threading", CLOCK_THREADING,
     "Map iterations run on actor threads that work for their execution's simulator",
     "tests/sim/test_context.py::test_map_iterations_and_parallel_branches_work_for_their_executions_simulator[Map]"),
    (job, "threading", CLOCK_THREADING,
     "a Map state waiting for its iterations is not busy (the iterations are)",
     _W + "test_map_iterations_each_wait_their_own_seconds"),
    (branch_worker, "threading", CLOCK_THREADING,
     "Parallel branches run on actor threads that work for their execution's simulator",
     "tests/sim/test_context.py::test_map_iterations_and_parallel_branches_work_for_their_executions_simulator[Parallel]"),
    (branches_decl, "threading", CLOCK_THREADING,
     "a Parallel state waiting for its branches is not busy (the branches are)",
     _W + "test_parallel_branches_wait_side_by_side_and_the_state_ends_with_the_longest"),
    (environment, "threading", CLOCK_THREADING,
     "Wait states wait on `program_state_event` through the clock (StopExecution still ends them)", _HOUR_OF_WAIT),
    (callback, "Event", clock.ClockEvent,
     "callback (.waitForTaskToken) timeouts, HeartbeatSeconds and activity waits run on the simulator clock",
     _R + "test_callback_task_times_out_after_timeout_seconds_of_simulator_time"),
    (state_task_service_callback, "threading", CLOCK_THREADING,
     "the waitForTaskToken helper thread of .sync tasks is an actor",
     "tests/sim/aws/sfn/test_integrations.py::test_start_execution_sync_waits_and_returns_the_childs_output_as_text"),
    (state_task_service_callback, "time", CLOCK_TIME,
     ".sync integrations poll their job on the simulator clock",
     _R + "test_a_sync_parent_polls_its_child_on_the_simulator_clock"),
    (retrier_decl, "time", CLOCK_TIME,
     "Retry back-off (IntervalSeconds x BackoffRate^n, MaxDelaySeconds) sleeps on the simulator clock",
     _R + "test_an_hour_of_back_off_ends_in_the_catch_path_within_seconds_of_wall_time"),
    (event_manager, "datetime", CLOCK_DATETIME,
     "history event timestamps are simulator time: a 30 s Wait is 30 s between WaitStateEntered and "
     "WaitStateExited, as AWS records it, however fast virtual time ran", _HOUR_OF_WAIT),
    (parser_models, "datetime", CLOCK_DATETIME, "an execution's startDate is simulator time",
     "tests/sim/aws/glue/test_schedules_and_alarms.py::test_a_day_of_hourly_runs_starts_24_executions_on_the_virtual_clock"),
    (execution, "datetime", CLOCK_DATETIME, "an execution's stopDate is simulator time", _SIDE_BY_SIDE),
    (state_module, "datetime", CLOCK_DATETIME, "the context object's State.EnteredTime is simulator time",
     _W + "test_the_context_objects_entered_time_is_simulator_time"),
    (map_run_record, "datetime", CLOCK_DATETIME, "map run start/stop dates are simulator time",
     "tests/sim/test_same_seed.py::test_task_tokens_and_map_run_ids_follow_the_seed"),
    (branches_decl, "datetime", CLOCK_DATETIME, "a failed Parallel's branch stop date is simulator time",
     _W + "test_a_failed_parallel_branch_ends_on_simulator_time"),
]

_FUNCTIONS: list[tuple[Any, str, Any, tuple[str, ...], str]] = [
    (WaitFunction, "_wait_interval", _wait_interval, ("self", "env", "wait_seconds"), _HOUR_OF_WAIT),
    (Timestamp, "_get_wait_seconds", _timestamp_wait_seconds, ("self", "env"),
     _W + "test_a_timestamp_wait_counts_from_simulator_time_not_the_wall_clock"),
    (JitterStrategyDecl, "_eval_body", _jitter, ("self", "env"),
     _R + "test_full_jitter_draws_each_interval_from_a_generator_seeded_by_the_execution"),
]


def _parameters(original: Any) -> tuple[str, ...]:
    return _THREAD_PARAMS if original is threading.Thread else ()


def _seams() -> list[Seam]:
    seams = [Seam(owner, name, _parameters(getattr(owner, name)), restores, proved_by=test)
             for owner, name, _, restores, test in _GLOBALS]
    for owner, name, replacement, params, test in _FUNCTIONS:
        seams.append(Seam(owner, name, params, replacement.__doc__ or "", proved_by=test))
    return seams


register([(owner, name, value) for owner, name, value, _, _ in _GLOBALS]
         + [(owner, name, value) for owner, name, value, _, _ in _FUNCTIONS], _seams())
