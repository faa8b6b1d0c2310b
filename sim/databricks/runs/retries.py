"""Retries: a task's `max_retries`, `min_retry_interval_millis` and `retry_on_timeout`.

A failed attempt (or a timed-out one with `retry_on_timeout`) is followed by a new task run with the
next `attempt_number` and its own run id, WAITING_FOR_RETRY until the interval passed (a timer on the
clock, cut short when the run stops). `max_retries` -1 retries without end; a stopped run never retries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim import clock
from sim.databricks.runs.context import RunContext, Stopping
from sim.databricks.runs.models import TaskRun
from sim.databricks.runs.registry import RunRegistry


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 0  # -1: retry indefinitely
    interval_seconds: float = 0.0
    retry_on_timeout: bool = False

    @classmethod
    def of(cls, spec: dict[str, Any]) -> RetryPolicy:
        return cls(int(spec.get("max_retries") or 0), int(spec.get("min_retry_interval_millis") or 0) / 1000,
                   bool(spec.get("retry_on_timeout")))

    def retries(self, task_run: TaskRun) -> bool:
        """Whether an attempt that ended like `task_run` is followed by another."""
        result = task_run.state.result_state
        retry = result == "FAILED" or (result == "TIMEDOUT" and self.retry_on_timeout)
        exhausted = self.max_retries != -1 and task_run.attempt_number >= self.max_retries
        return retry and not exhausted


def run_with_retries(ctx: RunContext, first: TaskRun, attempt: Callable[[RunContext, TaskRun], None], *,
                     registry: RunRegistry, stopping: threading.Event) -> TaskRun:
    """Run `first` and its retries; returns the last attempt (raises `Stopping` on shutdown)."""
    policy = RetryPolicy.of(first.task)
    task_run = first
    while True:
        attempt(ctx, task_run)
        if not policy.retries(task_run) or ctx.stop.is_set():
            return task_run
        task_run = task_run.next_attempt(registry.new_task_run_id())
        registry.add_task_run(ctx.run, task_run)
        if policy.interval_seconds:
            clock.get().wait(ctx.stop, policy.interval_seconds)
            if stopping.is_set():
                raise Stopping
