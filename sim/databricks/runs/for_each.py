"""The For each task (`for_each_task {inputs, concurrency, task}`): the nested task once per input item.

Jobs API 2.2 / databricks-sdk `ForEachTask`, `RunForEachTask`, `ForEachStats`: `inputs` is a JSON array
or a dynamic value reference that resolves to one; at most `concurrency` iterations (default 1) run at
a time; each iteration is a task run of the nested task with `{{input}}` (and `{{input.<field>}}`) resolved
to its item, and retries as the nested task's `max_retries` say, per iteration. The iterations are not
tasks of the run: runs/get of the job run shows the For each task with `for_each_task.stats`, and runs/get
of the For each task run lists them in `iterations` (databricks-sdk `JobsExt.get_run` pages them).
Every iteration runs even when one fails; the For each task then fails. The failure message is a guess.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sim import clock
from sim.compute.contract import TaskResult
from sim.databricks.runs.context import RunContext, Stopping
from sim.databricks.runs.models import RunState, TaskRun
from sim.databricks.runs.references import Scope, resolve
from sim.databricks.runs.registry import RunRegistry
from sim.databricks.runs.retries import run_with_retries

ACTIVE = ("PENDING", "RUNNING", "TERMINATING", "WAITING_FOR_RETRY", "BLOCKED", "QUEUED")


class ForEachError(Exception):
    """The inputs are not a JSON array (after references were resolved)."""


def parse_inputs(inputs: Any, scope: Scope) -> list[Any]:
    """The items to iterate over: `inputs` (a JSON array, or a reference resolving to one)."""
    text = resolve(inputs, scope) if isinstance(inputs, str) else json.dumps(inputs)
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        items = None
    if not isinstance(items, list):
        raise ForEachError(f"The For each task inputs must be a JSON array, got: {text[:200]}")  # (guess)
    return items


class ForEachRunner:
    """Runs the iterations of For each task runs through the attempt lifecycle it is given."""

    def __init__(self, registry: RunRegistry, *, attempt: Callable[[RunContext, TaskRun], None],
                 stopping: threading.Event) -> None:
        self._registry = registry
        self._attempt = attempt
        self._stopping = stopping
        self._stats_lock = threading.Lock()  # iterations end concurrently: the last snapshot written wins

    def run(self, ctx: RunContext, task_run: TaskRun, items: list[Any]) -> TaskResult:
        """Run every item's iteration (with its retries) and say how the For each task ended."""
        spec = task_run.task["for_each_task"]
        nested = spec["task"]
        concurrency = max(1, int(spec.get("concurrency") or 1))
        lock = threading.Lock()
        next_item = iter(enumerate(items))
        last: dict[int, TaskRun] = {}  # item index -> its last attempt
        done = clock.ClockEvent()
        self._stats(ctx, task_run, len(items))

        def worker() -> None:
            try:
                while not ctx.stop.is_set():
                    with lock:
                        index, item = next(next_item, (None, None))
                    if index is None:
                        return
                    first = TaskRun(self._registry.new_task_run_id(), nested["task_key"], 0, nested,
                                    RunState("PENDING"), repair_id=task_run.repair_id,
                                    iteration_of=task_run.run_id, iteration_input=json.dumps(item))
                    self._registry.add_task_run(ctx.run, first)
                    self._stats(ctx, task_run, len(items))  # scheduled: active until it ends
                    last[index] = run_with_retries(ctx, first, self._attempt, registry=self._registry,
                                                   stopping=self._stopping)
                    self._stats(ctx, task_run, len(items))
            except Stopping:
                return
            finally:
                with lock:
                    running[0] -= 1
                    if running[0] == 0:
                        done.set()

        running = [min(concurrency, len(items))]
        if not items:
            return TaskResult("SUCCESS")
        for n in range(running[0]):
            clock.ActorThread(target=worker, name=f"run-{ctx.run.run_id}-{task_run.task_key}-{n}", daemon=True).start()
        clock.get().wait(done, None)
        if self._stopping.is_set():
            raise Stopping
        self._stats(ctx, task_run, len(items))
        if ctx.stop.is_set():
            return TaskResult("CANCELED")
        failed = [t for t in last.values() if t.state.result_state != "SUCCESS"]
        if failed:
            return TaskResult("FAILED", error=f"{len(failed)} of {len(items)} iterations failed.")
        return TaskResult("SUCCESS")

    def _stats(self, ctx: RunContext, task_run: TaskRun, total: int) -> None:
        """`for_each_task.stats` from the latest attempt of each iteration (as the SDK documents it)."""
        with self._stats_lock:
            self._write_stats(ctx, task_run, total)

    def _write_stats(self, ctx: RunContext, task_run: TaskRun, total: int) -> None:
        states = [t.state for t in _latest_per_item(ctx.run.iterations(task_run.run_id))]
        succeeded = sum(1 for s in states if s.result_state == "SUCCESS")
        completed = sum(1 for s in states if s.terminal)
        errors = Counter(s.state_message for s in states if s.terminal and s.result_state != "SUCCESS")
        task_run.api_extras["for_each_task"] = {"stats": {
            "task_run_stats": {
                "total_iterations": total, "scheduled_iterations": len(states),
                "active_iterations": sum(1 for s in states if s.life_cycle_state in ACTIVE),
                "completed_iterations": completed, "succeeded_iterations": succeeded,
                "failed_iterations": completed - succeeded,
            },
            "error_message_stats": [{"error_message": message, "count": count, "termination_category": "FAILED"}
                                    for message, count in errors.most_common(3)],
        }}
        self._registry.save(ctx.run)


def _latest_per_item(iterations: list[TaskRun]) -> list[TaskRun]:
    """The latest attempt of each iteration: a retry follows its attempt with attempt_number + 1."""
    latest: list[TaskRun] = []
    for iteration in iterations:
        if iteration.attempt_number > 0:
            for i in range(len(latest) - 1, -1, -1):
                earlier = latest[i]
                if (earlier.iteration_input == iteration.iteration_input
                        and earlier.attempt_number == iteration.attempt_number - 1):
                    latest[i] = iteration
                    break
            else:
                latest.append(iteration)
        else:
            latest.append(iteration)
    return latest
