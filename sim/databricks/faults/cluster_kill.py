"""What a `cluster` fault does: SIGKILL a cluster's worker process once a task attempt runs on it."""

from __future__ import annotations

import os
import signal
from typing import Any

from sim import clock

__all__ = ["kill_when_started"]


def kill_when_started(cluster: Any, handle: Any, delay: float) -> None:
    """Wait until the attempt `handle` has started (or ended), then `delay` simulated seconds, then kill."""
    if not handle.wait_started():  # blocks on the handle's own event, set when the worker begins the code
        return
    if delay:
        clock.sleep(delay)
    kill = getattr(cluster, "kill_worker", None)
    if callable(kill):
        kill()
        return
    process = getattr(cluster, "_process", None)  # LocalCluster has no public kill yet (compute room)
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
