"""What an inline Map's history says when one iteration fails while others run.

AWS cuts the running siblings and records, in index order over the iterations in progress, the failing
iteration's `MapIterationFailed` (then `TaskStateAborted` when it failed in a Task) and each cut
iteration's `MapIterationAborted` followed by the `*StateAborted` of the state it was in; every one of
them follows the failing event (`previousEventId`), and `MapStateFailed` comes after them. Recorded on
AWS: LocalStack's tests/aws/services/stepfunctions/v2/timeouts/test_timeouts.snapshot.json
(test_service_lambda_map_timeout) and floci's StepFunctionsMapIterationFailureIntegrationTest (a Wait cut:
`MapIterationAborted, WaitStateAborted, MapIterationFailed, MapStateFailed`).

moto recorded the failing iteration's `MapIterationFailed` only, never stopped the siblings, and their
events (a finished Task, the next states) went on after `MapStateFailed`, even after `ExecutionFailed`.
Here each inline iteration records through its own event gate; a failure closes the gates of the
siblings (nothing they do afterwards is recorded), stops their environments and records what AWS does.

Registered with `core.register` at import.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, MapIterationEventDetails
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import (
    IterationWorker,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from sim import clock
from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ENTERED, _EXITED = "StateEntered", "StateExited"
_ABORTED_TYPES = {member.value for member in HistoryEventType if member.value.endswith("StateAborted")}


class _IterationEvents:
    """The event manager one iteration (and every frame nested in it) records through: forwards to the
    execution's manager until the iteration is cut, then drops; remembers the state the iteration is in."""

    def __init__(self, manager: Any, cut: _MapCut, env: Environment, index: int) -> None:
        self._manager, self._cut, self._env, self.index = manager, cut, env, index
        self._lock = threading.Lock()
        self.closed = False
        self.state_kind: str | None = None  # "Task", "Wait", ...: the iteration's current top-level state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    def add_event(self, context: Any, event_type: Any, event_details: Any = None, timestamp: Any = None,
                  update_source_event_id: bool = True) -> int:
        kind = str(getattr(event_type, "value", event_type))
        own = context is self._env.event_history_context  # not an event of a Map nested in this iteration
        if own and kind == HistoryEventType.MapIterationFailed:
            self._cut.fail(self, context)
            return int(context.last_published_event_id)
        if own and kind == HistoryEventType.MapIterationSucceeded:
            self._cut.leave(self)
        with self._lock:
            if self.closed:
                return int(context.last_published_event_id)
            if own:
                if kind.endswith(_ENTERED):
                    self.state_kind = kind[:-len(_ENTERED)]
                elif kind.endswith(_EXITED):
                    self.state_kind = None
            return self._manager.add_event(context=context, event_type=event_type, event_details=event_details,
                                           timestamp=timestamp, update_source_event_id=update_source_event_id)

    def close(self) -> None:
        """Record nothing more of this iteration (waits for an event being recorded to finish)."""
        with self._lock:
            self.closed = True

    def forward(self, context: Any, event_type: Any, details: EventDetails | None = None) -> None:
        self._manager.add_event(context=context, event_type=event_type, event_details=details,
                                update_source_event_id=False)


class _MapCut:
    """The iterations of one inline Map run in progress, and the first failure among them."""

    def __init__(self, map_name: str) -> None:
        self._map_name = map_name
        self._lock = threading.Lock()
        self._running: dict[int, _IterationEvents] = {}
        self.failed = False

    def enter(self, gate: _IterationEvents) -> None:
        with self._lock:
            self._running[gate.index] = gate
            if self.failed:
                gate.close()

    def leave(self, gate: _IterationEvents) -> None:
        with self._lock:
            self._running.pop(gate.index, None)

    def fail(self, failing: _IterationEvents, context: Any) -> None:
        """The first failure cuts every other iteration in progress and records the lot, in index order."""
        with self._lock:
            if self.failed or failing.closed:
                return  # cut already: a sibling failing after the cut is recorded as aborted
            self.failed = True
            gates = sorted(self._running.values(), key=lambda gate: gate.index)
            self._running.clear()
        for gate in gates:
            if gate is not failing:
                gate.close()
        stopped = datetime.datetime.fromtimestamp(clock.now(), tz=datetime.UTC)
        for gate in gates:
            details = MapIterationEventDetails(name=self._map_name, index=gate.index)
            if gate is failing:
                failing.forward(context, HistoryEventType.MapIterationFailed,
                                EventDetails(mapIterationFailedEventDetails=details))
                if gate.state_kind == "Task":
                    failing.forward(context, HistoryEventType.TaskStateAborted)
                continue
            gate._env.set_stop(stop_date=stopped, cause=None, error=None)
            failing.forward(context, HistoryEventType.MapIterationAborted,
                            EventDetails(mapIterationAbortedEventDetails=details))
            aborted = f"{gate.state_kind}StateAborted"
            if aborted in _ABORTED_TYPES:
                failing.forward(context, HistoryEventType(aborted))


_CUT = "_stepbricks_map_cut"
_cut_lock = threading.Lock()
_ORIGINAL_EVAL_JOB = IterationWorker._eval_job


def _eval_job(self: IterationWorker, env: Environment, job: Any) -> None:
    """Wraps `IterationWorker._eval_job` (inline Map iterations; distributed workers replace it).

    Restores: when an iteration fails while others run, the siblings are cut (their environments stopped,
    nothing they do afterwards recorded) and the history lists, in index order, `MapIterationFailed` (then
    `TaskStateAborted` for a failing Task) and each cut iteration's `MapIterationAborted` and `*StateAborted`,
    all after the failing event, before `MapStateFailed`, as recorded on AWS (LocalStack's
    v2/timeouts/test_timeouts.snapshot.json, test_service_lambda_map_timeout); moto recorded no abort and
    the siblings' events went on after the Map, even after `ExecutionFailed`.
    """
    with _cut_lock:
        cut = self._job_pool.__dict__.setdefault(_CUT, _MapCut(self._work_name))
    gate = _IterationEvents(env.event_manager, cut, env, job.job_index)
    env.event_manager = gate
    cut.enter(gate)
    try:
        _ORIGINAL_EVAL_JOB(self, env, job)
    finally:
        cut.leave(gate)


register(
    [(IterationWorker, "_eval_job", _eval_job)],
    [Seam(IterationWorker, "_eval_job", ("self", "env", "job"), _eval_job.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_map_aborts.py::test_failing_lambda_iteration_aborts_the_running_lambda_tasks_in_index_order")],
)
