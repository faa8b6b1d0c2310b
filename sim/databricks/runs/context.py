"""What the threads executing one run share: its stop and wake-up events, clusters, results and values."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sim import clock
from sim.compute.contract import Cluster, TaskHandle
from sim.databricks.runs.models import Run
from sim.databricks.runs.timeouts import RunDeadline


class Stopping(Exception):
    """The server is shutting down: abandon the run without writing a terminal state."""


@dataclass
class RunContext:
    run: Run
    deadline: RunDeadline
    # Set on cancel or timeout: every task of the run stops.
    stop: threading.Event = field(default_factory=clock.ClockEvent)
    # Set when a task ends or the run's job changes (a cancel): the graph walk looks again.
    wakeup: threading.Event = field(default_factory=clock.ClockEvent)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clusters: dict[tuple[str, str], Cluster] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)  # task_key -> result_state of its last attempt
    task_values: dict[str, dict[str, Any]] = field(default_factory=dict)  # dbutils.jobs.taskValues
    outcomes: dict[str, str] = field(default_factory=dict)  # condition task key -> "true" / "false"
    finished: set[str] = field(default_factory=set)  # task keys whose thread is done (retries and all)
    timed_out: bool = False
    # Attempts running on clusters: stopping the run cancels them, so their threads simply wait for the end.
    handles: set[TaskHandle] = field(default_factory=set)

    def check_cancel_and_deadline(self) -> None:
        """Stop the run's tasks once a cancel was requested or the deadline passed."""
        if self.stop.is_set():
            return
        if self.run.cancel_requested:
            self.halt()
        elif self.deadline.passed():
            self.timed_out = True
            self.halt()

    def halt(self) -> None:
        """Stop every task: set `stop` and cancel the attempts running on clusters."""
        self.stop.set()
        with self.lock:
            handles = list(self.handles)
        for handle in handles:
            handle.cancel()

    @contextmanager
    def attempt_running(self, handle: TaskHandle) -> Iterator[None]:
        """`handle` is cancelled if the run stops while the block runs (at once if it stopped already)."""
        with self.lock:
            self.handles.add(handle)
        try:
            if self.stop.is_set():
                handle.cancel()
            yield
        finally:
            with self.lock:
                self.handles.discard(handle)
