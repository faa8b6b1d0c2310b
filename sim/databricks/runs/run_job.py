"""The Run Job task (`run_job_task {job_id, job_parameters, ...}`): start another job's run and wait for it.

Jobs API 2.2 / databricks-sdk `RunJobTask`, `TriggerType.RUN_JOB_TASK`, `TriggerInfo.run_id`,
`RunOutput.run_job_output`: the child is an ordinary job run of `job_id` (its concurrency and queue
settings apply) with `trigger: RUN_JOB_TASK` and `trigger_info.run_id` = the Run Job task run; the task
run's get-output gives `run_job_output.run_id` = the child. `job_parameters` may use dynamic value
references, resolved in the parent. The task waits (blocked on the child's state change, on no
cluster) and ends as the child did: SUCCESS, CANCELED, or FAILED naming the child run; cancelling the
parent (or its timeout) cancels the child. The failure message is a guess.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sim import clock
from sim.compute.contract import TaskResult
from sim.databricks.errors import DatabricksError
from sim.databricks.runs.context import RunContext, Stopping
from sim.databricks.runs.creation import LEGACY_PARAMS, RunFactory
from sim.databricks.runs.models import Run, TaskRun
from sim.databricks.runs.references import Scope, resolve
from sim.databricks.runs.registry import RunRegistry

SUCCEEDED = ("SUCCESS", "SUCCESS_WITH_FAILURES")


class RunJobRunner:
    def __init__(self, registry: RunRegistry, *, factory: RunFactory, start: Callable[[Run], None],
                 stopping: threading.Event) -> None:
        self._registry = registry
        self._factory = factory
        self._start = start  # the scheduler's: the child runs like any job run
        self._stopping = stopping

    def run(self, ctx: RunContext, task_run: TaskRun, scope: Scope) -> TaskResult:
        spec = task_run.task["run_job_task"]
        body: dict[str, Any] = {"job_id": spec.get("job_id")}
        if spec.get("job_parameters"):
            body["job_parameters"] = {k: resolve(v, scope) for k, v in spec["job_parameters"].items()}
            task_run.resolved_values["run_job_task"] = {"job_parameters": dict(body["job_parameters"])}
        body.update({p: spec[p] for p in LEGACY_PARAMS if spec.get(p) is not None})
        try:
            child, new = self._factory.job_run(body, trigger="RUN_JOB_TASK", trigger_info={"run_id": task_run.run_id})
        except DatabricksError as e:
            return TaskResult("FAILED", error=e.message)
        task_run.child_run_id = child.run_id
        self._registry.save(ctx.run)
        if new:
            self._start(child)
        cancelled = self._wait(ctx, child)
        result = child.state.result_state or "FAILED"
        if cancelled or result == "CANCELED":
            return TaskResult("CANCELED")
        if result in SUCCEEDED:
            return TaskResult("SUCCESS")
        return TaskResult("FAILED", error=(  # (guess) wording
            f"Run {child.run_id} of job {child.job_id} ended {result}: {child.state.state_message}".rstrip(": ")))

    def _wait(self, ctx: RunContext, child: Run) -> bool:
        """Block until the child run ends; True when the parent stopped it (cancel or timeout)."""
        cancelled = False
        with self._registry.signal.listening(child.job_id) as changed, \
                self._registry.signal.listening(ctx.run.job_id, changed):  # the parent's cancel
            while True:
                changed.clear()
                if self._stopping.is_set():
                    raise Stopping
                if child.state.terminal:
                    return cancelled
                if not cancelled and (ctx.stop.is_set() or ctx.run.cancel_requested or ctx.deadline.passed()):
                    with self._registry.lock:
                        if not child.state.terminal:
                            child.cancel_requested = True
                            self._registry.save(child)
                    cancelled = True
                clock.get().wait(changed, None if cancelled else ctx.deadline.remaining())
