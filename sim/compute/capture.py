"""A thread-aware stdout/stderr: each attempt's output lands in its own `TaskLog`.

Installed once per worker as `sys.stdout` and `sys.stderr`. Everything is still echoed (redacted) to
the worker's own stream, which is the cluster's driver log file under the state directory.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO

from sim.compute import context


class TaskRoutedStream(io.TextIOBase):
    def __init__(self, echo: TextIO) -> None:
        self._echo = echo

    def write(self, text: str) -> int:
        task = context.current()
        if task is not None:
            task.log.write(text)
            text = task.log.redact(text)
        self._echo.write(text)
        return len(text)

    def flush(self) -> None:
        self._echo.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._echo.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._echo, "encoding", "utf-8")

    @property
    def buffer(self):  # bytes written here bypass the capture, as with any raw fd write
        return self._echo.buffer


def install() -> None:
    """Route sys.stdout / sys.stderr through the task registry (idempotent)."""
    if not isinstance(sys.stdout, TaskRoutedStream):
        sys.stdout = TaskRoutedStream(sys.stdout)
    if not isinstance(sys.stderr, TaskRoutedStream):
        sys.stderr = TaskRoutedStream(sys.stderr)
