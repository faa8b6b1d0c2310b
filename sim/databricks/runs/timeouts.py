"""Timeouts: the run's `timeout_seconds` deadline, and how a timed-out run and task read in the API.

A run's deadline is a timer on the simulator's clock (a virtual clock skips no further than it); when it
passes, the scheduler stops every task, and a task stopped by it ends TIMEDOUT rather than CANCELED. A
task's own `timeout_seconds` is enforced by its cluster (`TaskInvocation.timeout_seconds`), which ends
the attempt TIMEDOUT itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sim import clock
from sim.databricks.runs.models import Run, RunState, TaskRun


class RunDeadline:
    """When the run times out (`timeout_seconds`, 0 = never), read from the clock at the run's start."""

    def __init__(self, timeout_seconds: int) -> None:
        self.at: float | None = clock.now() + timeout_seconds if timeout_seconds else None

    def passed(self) -> bool:
        return self.at is not None and clock.now() >= self.at

    def remaining(self) -> float | None:
        """Seconds of clock time left (None: no deadline), for a wait that must wake at the deadline."""
        return None if self.at is None else max(0.0, self.at - clock.now())

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the deadline as a timer for the block, so a virtual clock stops there."""
        with clock.get().alarm(self.at):
            yield


def stopped_outcome(outcome: str, *, run_timed_out: bool) -> str:
    """A task stopped because the run's deadline passed ends TIMEDOUT, not CANCELED."""
    return "TIMEDOUT" if outcome == "CANCELED" and run_timed_out else outcome


def task_timeout_message(run: Run, task_run: TaskRun) -> str:
    timeout = task_run.task.get("timeout_seconds") or run.timeout_seconds
    return f"Task timed out after {timeout} seconds."


def run_timed_out_state(run: Run) -> RunState:
    return RunState("TERMINATED", "TIMEDOUT", f"Run timed out after {run.timeout_seconds} seconds.",
                    True, "RUN_EXECUTION_ERROR", "CLIENT_ERROR")
