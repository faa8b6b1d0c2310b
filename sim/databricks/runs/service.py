"""The runs API's behaviour: run-now, runs/submit, runs/repair, cancel, delete and the run queries.

Creating a run decides its first state (PENDING, QUEUED, or SKIPPED at the concurrency limit) and
hands it to the `Executor` this service was built with (`runs/scheduler.py`); the runs themselves
live in the `RunRegistry` both share.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sim import clock
from sim.databricks.errors import InvalidParameterValue, InvalidState
from sim.databricks.jobs.models import JobsBackend, job_tasks
from sim.databricks.paging import Page, paginate
from sim.databricks.runs import repair as repairs
from sim.databricks.runs.creation import LEGACY_PARAMS, RunFactory, check_parameter_slots
from sim.databricks.runs.models import RepairRecord, Run, RunState, TaskRun
from sim.databricks.runs.registry import RunRegistry

MAX_RUNS_LIMIT = 25


class Executor(Protocol):
    """What executes runs (`runs/scheduler.Scheduler`)."""

    def start(self, run: Run) -> None:
        """Execute a created run (it may first wait in the job's queue)."""

    def start_repair(self, run: Run, keys: list[str]) -> None:
        """Re-run `keys` of a finished run whose repair record the service has opened."""


class RunsService:
    """The runs API over a shared `RunRegistry`; created runs go to `executor`."""

    def __init__(self, registry: RunRegistry, jobs: JobsBackend, factory: RunFactory, executor: Executor, *,
                 run_page_base: str) -> None:
        self._registry = registry
        self._jobs = jobs
        self._factory = factory
        self._executor = executor
        self._run_page_base = run_page_base

    @property
    def lock(self) -> threading.RLock:
        return self._registry.lock

    @property
    def changed(self) -> threading.Condition:
        """Notified on every change to any run (tests and the bench wait on it with `lock` held)."""
        return self._registry.changed

    # --- creating runs ---------------------------------------------------------------------------
    @property
    def listeners(self) -> list[Callable[[Run], None]]:
        """Called with the run after every saved change (the trigger engine, the notifier)."""
        return self._registry.listeners

    def run_now(self, body: dict[str, Any], *, trigger: str = "ONE_TIME") -> Run:
        run, new = self._factory.job_run(body, trigger=trigger)
        if new:
            self._executor.start(run)
        return run

    def submit(self, body: dict[str, Any]) -> Run:
        run, new = self._factory.submit_run(body)
        if new:
            self._executor.start(run)
        return run

    def repair(self, body: dict[str, Any]) -> int:
        """Re-run tasks of a finished run as part of that run; returns the new repair id.

        The run goes back to PENDING before this returns, so a client polling right after the answer
        (databricks-sdk's `repair_run(...).result()`) never mistakes the previous verdict for the repair's."""
        run_id = int(body.get("run_id") or 0)
        run = self.get(run_id)
        check_parameter_slots(body)
        job_tasks_now = None
        if run.run_type == "JOB_RUN" and run.job_id is not None:
            job_tasks_now = job_tasks(self._jobs.get(run.job_id).settings)
        with self.lock:
            latest = body.get("latest_repair_id")
            repairs.check_repairable(run, run_id, None if latest is None else int(latest))
            keys = repairs.select_tasks(
                run, rerun_tasks=body.get("rerun_tasks"),
                rerun_all_failed_tasks=bool(body.get("rerun_all_failed_tasks")),
                rerun_dependent_tasks=bool(body.get("rerun_dependent_tasks")),
            )
            specs = repairs.current_specs(run, keys, job_tasks_now)
            in_run = {t["task_key"] for t in run.tasks_spec}
            run.tasks_spec = [
                {**specs[t["task_key"]],
                 "depends_on": [d for d in specs[t["task_key"]].get("depends_on") or [] if d["task_key"] in in_run]}
                if t["task_key"] in specs else t
                for t in run.tasks_spec
            ]
            self._apply_repair_parameters(run, body)
            if not run.repairs:
                run.repairs.append(RepairRecord("ORIGINAL", run.start_time, run.end_time,
                                                state=copy.deepcopy(run.state),
                                                task_run_ids=[t.run_id for t in run.tasks if t.iteration_of is None]))
            repair_id = self._registry.new_repair_id()
            run.repairs.append(RepairRecord("REPAIR", clock.now_ms(), id=repair_id))
            run.state = RunState("PENDING")
            run.end_time = 0
            run.cancel_requested = False
            self._registry.save(run)
        self._executor.start_repair(run, keys)
        return repair_id

    def _apply_repair_parameters(self, run: Run, body: dict[str, Any]) -> None:
        """A repair's parameters replace the run's for the re-run tasks (as run-now's would)."""
        given = {k: str(v) for k, v in (body.get("job_parameters") or {}).items()}
        for param in run.job_parameters:
            if param["name"] in given:
                param["value"] = given.pop(param["name"])
        run.job_parameters += [{"name": k, "value": v} for k, v in given.items()]
        run.overriding_parameters.update(
            {p: body[p] for p in (*LEGACY_PARAMS, "job_parameters") if body.get(p) is not None})

    # --- queries ---------------------------------------------------------------------------------
    def get(self, run_id: int) -> Run:
        return self._registry.get(run_id)

    def task_run(self, run_id: int) -> TaskRun | None:
        """The task run with this id, or None when `run_id` is a parent run."""
        return self._registry.task_run(run_id)

    def list(self, *, job_id: int | None, active_only: bool, completed_only: bool, limit: int, offset: int,
             page_token: str | None, run_type: str | None, start_time_from: int | None = None,
             start_time_to: int | None = None) -> Page[Run]:
        """runs/list: newest first; `start_time_from`/`start_time_to` (epoch ms, both inclusive) keep the runs
        that started in that window (Jobs API 2.1/2.2 "Show runs that started at or after / before this
        value")."""
        if active_only and completed_only:
            raise InvalidParameterValue("active_only and completed_only cannot both be true.")
        if not 0 <= limit <= MAX_RUNS_LIMIT:
            raise InvalidParameterValue(f"The limit must be between 0 and {MAX_RUNS_LIMIT}, got {limit}.")
        if job_id is not None:
            self._jobs.get(job_id)
        runs = self._registry.newest_first()
        runs = [
            r for r in runs
            if (job_id is None or r.job_id == job_id)
            and (not active_only or not r.state.terminal)
            and (not completed_only or r.state.terminal)
            and (run_type is None or r.run_type == run_type)
            and (start_time_from is None or r.start_time >= start_time_from)
            and (start_time_to is None or r.start_time <= start_time_to)
        ]
        return paginate(runs, limit=limit or 20, offset=offset, page_token=page_token)

    def active_runs(self, job_id: int | None) -> list[Run]:
        return self._registry.active_runs(job_id)

    # --- changes ---------------------------------------------------------------------------------
    def cancel(self, run_id: int) -> None:
        run = self.get(run_id)
        with self.lock:
            if not run.state.terminal:
                run.cancel_requested = True
                self._registry.save(run)  # wakes the run's scheduler thread

    def cancel_all(self, job_id: int | None, all_queued_runs: bool) -> None:
        if job_id is None and not all_queued_runs:
            raise InvalidParameterValue("Either job_id or all_queued_runs must be specified.")
        if job_id is not None:
            self._jobs.get(job_id)
        for run in self.active_runs(job_id):
            if job_id is not None or run.state.life_cycle_state == "QUEUED":
                self.cancel(run.run_id)

    def delete(self, run_id: int) -> None:
        run = self.get(run_id)
        with self.lock:
            if not run.state.terminal:
                raise InvalidState(f"Run {run_id} is still active and cannot be deleted. Cancel it first.")
            self._registry.remove(run)

    # --- serialisation ---------------------------------------------------------------------------
    def page_url(self, run: Run, run_id: int | None = None) -> str:
        return f"{self._run_page_base}#job/{run.job_id or run.run_id}/run/{run_id or run.run_id}"

    def to_api(self, run: Run, *, task_run: TaskRun | None = None, include_history: bool = False,
               include_resolved_values: bool = False) -> dict[str, Any]:
        if task_run is not None:
            tasks = [task_run.to_api(self.page_url(run, task_run.run_id),
                                     include_resolved_values=include_resolved_values)]
            body = {
                "run_id": task_run.run_id, "job_id": run.job_id, "parent_run_id": run.run_id,
                "number_in_job": task_run.run_id, "run_name": task_run.task_key, "run_type": run.run_type,
                "task_key": task_run.task_key, "attempt_number": task_run.attempt_number,
                "creator_user_name": "stepbricks@localhost", "run_page_url": tasks[0]["run_page_url"],
                "start_time": task_run.start_time, "end_time": task_run.end_time,
                # One task's run (runs/get of a task run id, get-output's metadata): its own timings.
                **{key: tasks[0][key] for key in ("setup_duration", "execution_duration", "cleanup_duration",
                                                  "run_duration")},
                "state": task_run.state.to_api(), "status": task_run.state.status_api(),
                "tasks": tasks, "format": "MULTI_TASK", "trigger": run.trigger,
            }
            if "for_each_task" in task_run.task:  # a For each task run: its iterations (runs/get pages them)
                body["iterations"] = [t.to_api(self.page_url(run, t.run_id),
                                               include_resolved_values=include_resolved_values)
                                      for t in run.iterations(task_run.run_id)]
            return body
        duration = max(0, run.end_time - run.start_time) if run.end_time else 0
        body: dict[str, Any] = {
            "run_id": run.run_id, "number_in_job": run.run_id, "original_attempt_run_id": run.run_id,
            "run_name": run.run_name, "run_type": run.run_type, "run_page_url": self.page_url(run),
            "creator_user_name": "stepbricks@localhost", "start_time": run.start_time,
            # A MULTI_TASK run: setup/execution/cleanup are 0 and run_duration is the total (Jobs API 2.2,
            # databricks-sdk's Run docstrings); each task run carries its own three.
            "end_time": run.end_time, "setup_duration": 0, "execution_duration": 0,
            "cleanup_duration": 0, "run_duration": duration, "state": run.state.to_api(),
            "status": run.state.status_api(),
            "tasks": [t.to_api(self.page_url(run, t.run_id), include_resolved_values=include_resolved_values)
                      for t in run.visible_tasks()],
            "format": "MULTI_TASK", "trigger": run.trigger, "attempt_number": 0,
        }
        if run.trigger_info:
            body["trigger_info"] = run.trigger_info
        if run.job_id is not None:
            body["job_id"] = run.job_id
        if run.job_parameters:
            body["job_parameters"] = run.job_parameters
        if run.overriding_parameters:
            body["overriding_parameters"] = run.overriding_parameters
        if run.job_clusters:
            body["job_clusters"] = run.job_clusters
        if include_history:
            body["repair_history"] = run.history_api()
        return body
