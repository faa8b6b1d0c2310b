"""The simulator-wide fault plan (`sim.faults.active()`) onto the workspace's own fault mechanism.

`databricks_task` faults (target name = job / run name, detail = task key; attempts are 1-based within a
run, so `attempts: 1-2` with `max_retries: 2` fails twice and succeeds on the third attempt) become the
workspace's `TaskFault`s, so a plan and `workspace.faults.task(...)` behave identically:
`result_state` (FAILED | INTERNAL_ERROR | TIMEDOUT), `internal_error: true`, `timeout: true`,
`slow_start_seconds: N` (the attempt starts N simulated seconds late, as a slow cluster start), `message`.

`cluster` faults (`kill_worker: true` or seconds after the task started) SIGKILL the cluster's worker
process mid-task: the attempt ends INTERNAL_ERROR "cluster worker died" and the cluster restarts, as when
a Databricks driver is lost.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from sim import clock, faults
from sim import context as sim_context
from sim.databricks.faults.models import TaskFault

__all__ = ["kill_worker_mid_task", "task_fault_from_plan"]


def task_fault_from_plan(*, job_name: str, task_key: str, run_id: int | None) -> TaskFault | None:
    effect = faults.active().take("databricks_task", job_name, task_key,
                                  instance=None if run_id is None else f"run-{run_id}")
    if effect is None:
        return None
    message = effect.get("message")
    if effect.get("slow_start_seconds"):
        return TaskFault("SLOW_START", delay_seconds=float(effect["slow_start_seconds"]), message=message)
    if effect.get("internal_error"):
        return TaskFault("INTERNAL_ERROR", message=message)
    if effect.get("timeout"):
        return TaskFault("TIMEDOUT", message=message)
    return TaskFault(str(effect.get("result_state", "FAILED")), message=message)  # type: ignore[arg-type]


def kill_worker_mid_task(cluster: Any, handle: Any, *, job_name: str, task_key: str, run_id: int) -> None:
    """If the plan says so, kill `cluster`'s worker once the attempt `handle` has started running."""
    effect = faults.active().take("cluster", job_name, task_key, instance=f"run-{run_id}")
    if effect is None or not effect.get("kill_worker"):
        return
    after = effect["kill_worker"]
    delay = 0.0 if after is True else float(after)
    sim_context.Thread(target=_kill_when_started, args=(cluster, handle, delay), daemon=True,
                     name=f"fault-kill-{cluster.cluster_id}").start()


def _kill_when_started(cluster: Any, handle: Any, delay: float) -> None:
    never = threading.Event()
    while not handle.done and not getattr(handle, "started_ms", 0):
        never.wait(0.02)  # real time: the attempt is busy, so the clock runs at wall speed anyway
    if handle.done:
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
