"""Python's cyclic collector in the processes stepbricks owns: their start-up frozen, their collections rarer.

What start-up makes (moto, botocore, FastAPI, pydantic, pyspark, py4j, MLflow: modules, classes, servers) lives as
long as the process, yet every full collection walks it again to find next to nothing. Measured (docs/performance.md,
sessions 22 and 23): `stepbricks up` ran three full collections before it answered (28-35, 58-69 and 105-128 ms),
the last inside the workspace's first request; a 5,000-row flight's cluster worker spent 1.10 s collecting (7 full
collections of ~120 ms), 0.36 s with `freeze_start_up` and `collect_rarely`; tests/sim/databricks's test process
1.4-1.5 CPU s, 0.5-0.6 s. At exit, the interpreter's last collection walked every object a `stepbricks run` had
made (~500,000) only to free memory the OS takes back anyway: 0.51-0.61 s between the command's last line and the
shell's prompt, 0.05 s with `freeze_at_exit` (session 24). The processes of users who embed the simulator (the
pytest plugin) are left alone: the collector is theirs.
"""

from __future__ import annotations

import atexit
import gc

__all__ = ["collect_rarely", "freeze_at_exit", "freeze_start_up", "pause_collector"]

# A collection after 10,000 new container objects instead of Python's 700 (the older generations as Python has them).
RARE_THRESHOLDS = (10_000, 20, 20)


def pause_collector() -> None:
    """No cyclic collections until `freeze_start_up` (reference counting still frees what it can)."""
    gc.disable()


def freeze_start_up() -> None:
    """Move everything alive now out of the collector's reach, and collect again from here on."""
    gc.freeze()
    gc.enable()


def collect_rarely() -> None:
    """Collect after `RARE_THRESHOLDS[0]` new containers: for processes whose work allocates in bursts."""
    gc.set_threshold(*RARE_THRESHOLDS)


def freeze_at_exit() -> None:
    """Freeze everything once the process's other exit handlers have run, so the interpreter's last collection
    walks nothing. Registered early, it runs late: `atexit` calls handlers last-registered first. Reference
    counting still frees what it can and the other handlers (weakref finalizers, logging) run as before.
    Registered once however often it is called."""
    atexit.unregister(_freeze_for_exit)
    atexit.register(_freeze_for_exit)


def _freeze_for_exit() -> None:
    gc.disable()
    gc.freeze()
