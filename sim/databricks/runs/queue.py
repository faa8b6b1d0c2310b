"""Queueing: a QUEUED run waits until its job has fewer active runs than `max_concurrent_runs`.

The service puts a run in the queue when its job is at the limit and `queue.enabled` is set (without
it the run is SKIPPED). The waiting run blocks on the registry's signal for its job, fired by every
change to a run of that job (one ending, a cancel), so it leaves the queue the moment a slot frees,
and a virtual clock sees it idle meanwhile. Admission happens under one lock, so two queued runs
never take the same slot, and in queue order: a run starts only when no earlier queued run of its job
is still waiting (a cancelled one is not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sim import clock
from sim.databricks.runs.context import Stopping
from sim.databricks.runs.models import Run
from sim.databricks.runs.registry import RunRegistry


class RunQueue:
    def __init__(self, registry: RunRegistry, *, job_settings: Callable[[int], dict[str, Any] | None],
                 stopping: threading.Event) -> None:
        self._registry = registry
        self._job_settings = job_settings
        self._stopping = stopping
        self._admit = threading.Lock()

    def wait_turn(self, run: Run) -> None:
        """Return once `run` may start (or was cancelled while queued); raises `Stopping` on shutdown.

        A run leaves the queue as PENDING, taking its slot before the lock is released."""
        with self._registry.signal.listening(run.job_id) as changed:
            while True:
                if self._stopping.is_set():
                    raise Stopping
                with self._admit:
                    if run.cancel_requested or self._admitted(run):
                        return
                clock.get().wait(changed, None)  # no timer: waiting for another run is not a Wait
                changed.clear()

    def _admitted(self, run: Run) -> bool:
        if run.state.life_cycle_state != "QUEUED":
            return True
        settings = self._job_settings(run.job_id) if run.job_id else None
        limit = int((settings or {}).get("max_concurrent_runs") or 1)
        active = [r for r in self._registry.active_runs(run.job_id) if r.run_id != run.run_id]
        running = [r for r in active if r.state.life_cycle_state != "QUEUED"]
        earlier = [r for r in active
                   if r.state.life_cycle_state == "QUEUED" and r.run_id < run.run_id and not r.cancel_requested]
        if len(running) >= limit or earlier:
            return False
        run.state.life_cycle_state = "PENDING"
        run.state.state_message = ""
        self._registry.save(run)
        return True
