"""Which task attempt the current thread works for, inside a worker process.

`dbutils`, `print` and the Spark job group are process-wide objects, but several attempts may run at
once on one cluster; each attempt thread binds its `TaskContext` here and those objects look it up.
A thread a task started itself is not bound: when exactly one attempt runs, it is assumed to be its.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import Any

from sim.compute.contract import TaskInvocation

REDACTED = "[REDACTED]"  # what Databricks prints instead of a secret value


class TaskLog:
    """stdout + stderr of one attempt, with every secret value the attempt read replaced by [REDACTED]."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add_secret(self, value: str) -> None:
        if value.strip():
            with self._lock:
                self._secrets.add(value)

    def redact(self, text: str) -> str:
        # Longest first, so a secret containing another one is hidden whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def write(self, text: str) -> None:
        with self._lock:
            self._buffer.write(text)

    def text(self) -> str:
        """Redacted again as a whole: a secret split over two writes is still hidden."""
        with self._lock:
            return self.redact(self._buffer.getvalue())


@dataclass
class TaskContext:
    attempt_id: int
    invocation: TaskInvocation
    log: TaskLog = field(default_factory=TaskLog)
    widgets: dict[str, str] = field(default_factory=dict)
    task_values: dict[str, Any] = field(default_factory=dict)
    exit_value: str | None = None
    stop_reason: str | None = None  # CANCELED / TIMEDOUT once the manager asked to stop the attempt

    def __post_init__(self) -> None:
        # Parameters passed to the run count as widgets already set (Databricks jobs semantics).
        self.widgets = dict(self.invocation.widgets)


_bound: dict[int, TaskContext] = {}
_lock = threading.Lock()


def bind(context: TaskContext) -> None:
    with _lock:
        _bound[threading.get_ident()] = context


def unbind() -> None:
    with _lock:
        _bound.pop(threading.get_ident(), None)


def current() -> TaskContext | None:
    """The attempt this thread works for; the only running attempt for threads a task started."""
    with _lock:
        found = _bound.get(threading.get_ident())
        if found is None and len({id(c) for c in _bound.values()}) == 1:
            found = next(iter(_bound.values()))
        return found


def running() -> list[TaskContext]:
    with _lock:
        return list(_bound.values())
