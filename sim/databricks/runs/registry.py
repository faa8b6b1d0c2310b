"""Every run of the workspace, in memory and in the store, and the signal that a run's state changed.

The service (API requests) and the scheduler (execution) share one `RunRegistry`: it owns the lookup
tables, the id sequences, persistence, and the wake-ups. Waiters (the queue, a run's graph, a parent
waiting for its child job run) block on a `RunSignal` event that every `save` fires, through the
simulator's clock, instead of polling: a virtual clock sees them idle, and they wake the moment the
state they wait for is written.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sim import clock
from sim.databricks.errors import RunDoesNotExist
from sim.databricks.runs.models import Run, RunState, TaskRun
from sim.databricks.store import Store

RUN_ID_START = 5001
REPAIR_ID_START = 734650698524280  # the docs' example repair id: ids look like a workspace's, never like run ids
RESTART_MESSAGE = (
    "The workspace server stopped while this run was in flight (stepbricks restart); the run was not "
    "resumed."
)
_ALL = object()


class RunSignal:
    """Wakes threads waiting for a change to the runs of one job (submit runs share the key None).

    A waiter registers its event before it checks the state it waits for, so a change between the check
    and the wait is never missed; `fire` sets the event of every waiter on that job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[object, list[threading.Event]] = {}

    @contextmanager
    def listening(self, job_id: int | None, event: threading.Event | None = None) -> Iterator[threading.Event]:
        """Register `event` (a new `ClockEvent` if None) for changes to `job_id`'s runs for the block."""
        event = event if event is not None else clock.ClockEvent()
        with self._lock:
            self._waiters.setdefault(job_id, []).append(event)
        try:
            yield event
        finally:
            with self._lock:
                waiters = self._waiters.get(job_id, [])
                if event in waiters:
                    waiters.remove(event)
                if not waiters:
                    self._waiters.pop(job_id, None)

    def fire(self, job_id: object = _ALL) -> None:
        """Wake the waiters on `job_id`'s runs (every waiter when no job is given: shutdown)."""
        with self._lock:
            if job_id is _ALL:
                events = [e for waiters in self._waiters.values() for e in waiters]
            else:
                events = list(self._waiters.get(job_id, ()))
        for event in events:
            event.set()


class RunRegistry:
    """Owns every run: lookups by run, task run and idempotency token; persistence; run and repair ids."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.lock = threading.RLock()
        # Tests and the bench wait on this with the lock held; the scheduler's waits use `signal`.
        self.changed = threading.Condition(self.lock)
        self.signal = RunSignal()
        self.listeners: list[Callable[[Run], None]] = []  # called after every saved change (triggers, notifications)
        self._runs: dict[int, Run] = {}
        self._task_parent: dict[int, int] = {}
        self._idempotency: dict[str, int] = {}
        for doc in store.all("run"):
            run = Run.from_dict(doc)
            if not run.state.terminal:
                _mark_interrupted(run)
                self._store.put("run", run.run_id, run.to_dict())
            self._index(run)

    # --- lookups ---------------------------------------------------------------------------------
    def get(self, run_id: int) -> Run:
        """The run, or the parent run of a task run with this id."""
        run = self._runs.get(run_id)
        if run is None:
            parent = self._task_parent.get(run_id)
            if parent is None:
                raise RunDoesNotExist(run_id)
            run = self._runs[parent]
        return run

    def task_run(self, run_id: int) -> TaskRun | None:
        """The task run with this id, or None when `run_id` is a parent run."""
        parent = self._task_parent.get(run_id)
        if parent is None:
            return None
        return next(t for t in self._runs[parent].tasks if t.run_id == run_id)

    def by_token(self, token: str) -> Run | None:
        run_id = self._idempotency.get(token)
        return None if run_id is None else self._runs[run_id]

    def newest_first(self) -> list[Run]:
        with self.lock:
            return sorted(self._runs.values(), key=lambda r: r.run_id, reverse=True)

    def active_runs(self, job_id: int | None) -> list[Run]:
        with self.lock:
            return [r for r in self._runs.values()
                    if not r.state.terminal and (job_id is None or r.job_id == job_id)]

    # --- ids -------------------------------------------------------------------------------------
    def new_run_id(self) -> int:
        return self._store.next_id("run", RUN_ID_START)

    def new_task_run_id(self) -> int:
        return self._store.next_id("run", RUN_ID_START)

    def new_repair_id(self) -> int:
        return self._store.next_id("repair", REPAIR_ID_START)

    # --- changes ---------------------------------------------------------------------------------
    def add(self, run: Run) -> None:
        with self.lock:
            self._index(run)
            self.save(run)

    def add_task_run(self, run: Run, task_run: TaskRun) -> None:
        with self.lock:
            run.tasks.append(task_run)
            if (task_run.repair_id is not None and task_run.iteration_of is None and run.repairs
                    and run.repairs[-1].id == task_run.repair_id):
                run.repairs[-1].task_run_ids.append(task_run.run_id)
            self._task_parent[task_run.run_id] = run.run_id
            self.save(run)

    def save(self, run: Run) -> None:
        """Persist and wake whoever waits on the run (the scheduler's waits, tests, the bench)."""
        with self.lock:
            self._store.put("run", run.run_id, run.to_dict())
            self.changed.notify_all()
        self.signal.fire(run.job_id)
        for listener in self.listeners:
            listener(run)

    def remove(self, run: Run) -> None:
        with self.lock:
            del self._runs[run.run_id]
            for task in run.tasks:
                self._task_parent.pop(task.run_id, None)
            if run.idempotency_token:
                self._idempotency.pop(run.idempotency_token, None)
            self._store.delete("run", run.run_id)

    def _index(self, run: Run) -> None:
        self._runs[run.run_id] = run
        for task in run.tasks:
            self._task_parent[task.run_id] = run.run_id
        if run.idempotency_token:
            self._idempotency[run.idempotency_token] = run.run_id


def _mark_interrupted(run: Run) -> None:
    """A run the server stopped in flight ends INTERNAL_ERROR on the next start (it is not resumed)."""
    now = clock.now_ms()
    for task in run.tasks:
        if not task.state.terminal:
            task.state = RunState("INTERNAL_ERROR", "FAILED", RESTART_MESSAGE,
                                  termination_code="INTERNAL_ERROR", termination_type="INTERNAL_ERROR")
            task.end_time = now
    run.state = RunState("INTERNAL_ERROR", "FAILED", RESTART_MESSAGE,
                         termination_code="INTERNAL_ERROR", termination_type="INTERNAL_ERROR")
    run.end_time = now
    if run.repairs and run.repairs[-1].state is None:
        run.repairs[-1].state = copy.deepcopy(run.state)
        run.repairs[-1].end_time = now
