"""Run-now, runs/submit and the run queries. Execution itself is `runs/scheduler.py`."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from sim import clock
from sim.databricks.errors import InvalidParameterValue, InvalidState, RunDoesNotExist
from sim.databricks.jobs.models import TASK_TYPES, JobsBackend, job_tasks, validate_tasks
from sim.databricks.paging import Page, paginate
from sim.databricks.runs import repair as repairs
from sim.databricks.runs.models import RepairRecord, Run, RunState, TaskRun
from sim.databricks.store import Store

LEGACY_PARAMS = ("notebook_params", "python_params", "python_named_params", "jar_params",
                 "spark_submit_params", "sql_params", "dbt_commands", "pipeline_params")
MAX_RUNS_LIMIT = 25
REPAIR_ID_START = 734650698524280  # the docs' example repair id: ids look like a workspace's, never like run ids
RESTART_MESSAGE = (
    "The workspace server stopped while this run was in flight (stepbricks restart); the run was not "
    "resumed."
)


class RunsBackend:
    """Owns every run; `start` hands a created run to the scheduler (a callable, so tests can see it)."""

    def __init__(self, store: Store, jobs: JobsBackend, *, run_page_base: str) -> None:
        self._store = store
        self._jobs = jobs
        self._run_page_base = run_page_base
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._runs: dict[int, Run] = {}
        self._task_parent: dict[int, int] = {}
        self._idempotency: dict[str, int] = {}
        self.start: Callable[[Run], None] = lambda run: None
        self.start_repair: Callable[[Run, list[str]], None] = lambda run, keys: None
        self.listeners: list[Callable[[Run], None]] = []  # called on every saved change (triggers, notifications)
        for doc in store.all("run"):
            run = Run.from_dict(doc)
            if not run.state.terminal:
                _mark_interrupted(run)
                self._store.put("run", run.run_id, run.to_dict())
            self._index(run)

    # --- creating runs ---------------------------------------------------------------------------
    def run_now(self, body: dict[str, Any], *, trigger: str = "ONE_TIME") -> Run:
        job = self._jobs.get(int(body.get("job_id") or 0))
        token = _idempotency_token(body)
        _check_parameter_slots(body)
        settings = job.settings
        tasks = copy.deepcopy(job_tasks(settings))
        only = body.get("only")
        if only:
            unknown = sorted(set(only) - {t["task_key"] for t in tasks})
            if unknown:
                raise InvalidParameterValue(f"Task(s) {', '.join(unknown)} in 'only' do not exist in job {job.job_id}.")
            tasks = [t for t in tasks if t["task_key"] in only]
            for t in tasks:
                t["depends_on"] = [d for d in t.get("depends_on") or [] if d["task_key"] in only]
        job_params = []
        given = {k: str(v) for k, v in (body.get("job_parameters") or {}).items()}
        for param in settings.get("parameters") or []:
            entry = {"name": param["name"], "default": param.get("default", "")}
            entry["value"] = given.pop(param["name"], entry["default"])
            job_params.append(entry)
        job_params += [{"name": k, "value": v} for k, v in given.items()]
        overriding = {p: body[p] for p in (*LEGACY_PARAMS, "job_parameters") if body.get(p) is not None}
        return self._create(
            token,
            run_type="JOB_RUN",
            run_name=settings.get("name") or "Untitled",
            job_id=job.job_id,
            tasks=tasks,
            job_clusters=copy.deepcopy(settings.get("job_clusters") or []),
            timeout_seconds=int(settings.get("timeout_seconds") or 0),
            job_parameters=job_params,
            overriding=overriding,
            max_concurrent=int(settings.get("max_concurrent_runs") or 1),
            queue=bool((settings.get("queue") or {}).get("enabled")),
            trigger=trigger,
        )

    def submit(self, body: dict[str, Any]) -> Run:
        token = _idempotency_token(body)
        tasks = copy.deepcopy(body.get("tasks") or [])
        if not tasks and any(k in body for k in TASK_TYPES):
            # Airflow's DatabricksSubmitRunOperator may send a single top-level task (checklist: a guess).
            tasks = job_tasks({**body, "name": body.get("run_name") or "task"})
        if not tasks:
            raise InvalidParameterValue("Run settings must be specified.")
        validate_tasks(tasks, body.get("job_clusters"))
        return self._create(
            token,
            run_type="SUBMIT_RUN",
            run_name=body.get("run_name") or "Untitled",
            job_id=None,
            tasks=tasks,
            job_clusters=copy.deepcopy(body.get("job_clusters") or []),
            timeout_seconds=int(body.get("timeout_seconds") or 0),
            job_parameters=[],
            overriding={},
            max_concurrent=0,
            queue=False,
        )

    def _create(self, token: str | None, *, run_type: str, run_name: str, job_id: int | None,
                tasks: list[dict[str, Any]], job_clusters: list[dict[str, Any]], timeout_seconds: int,
                job_parameters: list[dict[str, Any]], overriding: dict[str, Any], max_concurrent: int,
                queue: bool, trigger: str = "ONE_TIME") -> Run:
        with self.lock:
            if token is not None and token in self._idempotency:
                return self._runs[self._idempotency[token]]
            run_id = self._store.next_id("run", 5001)
            run = Run(
                run_id=run_id, run_type=run_type, run_name=run_name, job_id=job_id if job_id else run_id,
                tasks_spec=tasks, job_clusters=job_clusters, timeout_seconds=timeout_seconds,
                job_parameters=job_parameters, overriding_parameters=overriding, idempotency_token=token,
                start_time=clock.now_ms(), trigger=trigger,
            )
            if run_type == "SUBMIT_RUN":
                run.job_id = None
            active = [r for r in self._runs.values() if r.job_id == job_id and not r.state.terminal]
            skip = max_concurrent and len(active) >= max_concurrent and not queue
            if skip:
                run.state = RunState(
                    "SKIPPED", "MAXIMUM_CONCURRENT_RUNS_REACHED",
                    f"Skipping this run because the limit of {max_concurrent} maximum concurrent runs has "
                    "been reached.", termination_code="MAX_CONCURRENT_RUNS_EXCEEDED",
                    termination_type="CLIENT_ERROR",
                )
                run.end_time = run.start_time
            elif max_concurrent and len(active) >= max_concurrent:
                run.state.life_cycle_state = "QUEUED"
                run.state.state_message = "Queued: waiting for an active run of this job to finish."
            self._index(run)
            self.save(run)
        if not skip:
            self.start(run)
        return run

    def repair(self, body: dict[str, Any]) -> int:
        """Re-run tasks of a finished run as part of that run; returns the new repair id.

        The run goes back to PENDING before this returns, so a client polling right after the answer
        (databricks-sdk's `repair_run(...).result()`) never mistakes the previous verdict for the repair's."""
        run_id = int(body.get("run_id") or 0)
        run = self.get(run_id)
        _check_parameter_slots(body)
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
                                                task_run_ids=[t.run_id for t in run.tasks]))
            repair_id = self._store.next_id("repair", REPAIR_ID_START)
            run.repairs.append(RepairRecord("REPAIR", clock.now_ms(), id=repair_id))
            run.state = RunState("PENDING")
            run.end_time = 0
            run.cancel_requested = False
            self.save(run)
        self.start_repair(run, keys)
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
        run = self._runs.get(run_id)
        if run is None:
            parent = self._task_parent.get(run_id)
            if parent is None:
                raise RunDoesNotExist(run_id)
            run = self._runs[parent]
        return run

    def task_run(self, run_id: int) -> TaskRun | None:
        """The task run with this id, or None when `run_id` is a parent run."""
        parent = self._task_parent.get(run_id)
        if parent is None:
            return None
        return next(t for t in self._runs[parent].tasks if t.run_id == run_id)

    def list(self, *, job_id: int | None, active_only: bool, completed_only: bool, limit: int, offset: int,
             page_token: str | None, run_type: str | None) -> Page[Run]:
        if active_only and completed_only:
            raise InvalidParameterValue("active_only and completed_only cannot both be true.")
        if not 0 <= limit <= MAX_RUNS_LIMIT:
            raise InvalidParameterValue(f"The limit must be between 0 and {MAX_RUNS_LIMIT}, got {limit}.")
        if job_id is not None:
            self._jobs.get(job_id)
        with self.lock:
            runs = sorted(self._runs.values(), key=lambda r: r.run_id, reverse=True)
        runs = [
            r for r in runs
            if (job_id is None or r.job_id == job_id)
            and (not active_only or not r.state.terminal)
            and (not completed_only or r.state.terminal)
            and (run_type is None or r.run_type == run_type)
        ]
        return paginate(runs, limit=limit or 20, offset=offset, page_token=page_token)

    def active_runs(self, job_id: int | None) -> list[Run]:
        with self.lock:
            return [r for r in self._runs.values()
                    if not r.state.terminal and (job_id is None or r.job_id == job_id)]

    # --- changes ---------------------------------------------------------------------------------
    def cancel(self, run_id: int) -> None:
        run = self.get(run_id)
        with self.lock:
            if not run.state.terminal:
                run.cancel_requested = True
                self.save(run)

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
            del self._runs[run.run_id]
            for task in run.tasks:
                self._task_parent.pop(task.run_id, None)
            if run.idempotency_token:
                self._idempotency.pop(run.idempotency_token, None)
            self._store.delete("run", run.run_id)

    def new_task_run_id(self) -> int:
        return self._store.next_id("run", 5001)

    def add_task_run(self, run: Run, task_run: TaskRun) -> None:
        with self.lock:
            run.tasks.append(task_run)
            if task_run.repair_id is not None and run.repairs and run.repairs[-1].id == task_run.repair_id:
                run.repairs[-1].task_run_ids.append(task_run.run_id)
            self._task_parent[task_run.run_id] = run.run_id
            self.save(run)

    def save(self, run: Run) -> None:
        """Persist and wake whoever waits on the run (the scheduler's queue, tests, the bench)."""
        with self.lock:
            self._store.put("run", run.run_id, run.to_dict())
            self.changed.notify_all()
        for listener in self.listeners:
            listener(run)

    # --- serialisation ---------------------------------------------------------------------------
    def page_url(self, run: Run, run_id: int | None = None) -> str:
        return f"{self._run_page_base}#job/{run.job_id or run.run_id}/run/{run_id or run.run_id}"

    def to_api(self, run: Run, *, task_run: TaskRun | None = None, include_history: bool = False) -> dict[str, Any]:
        if task_run is not None:
            tasks = [task_run.to_api(self.page_url(run, task_run.run_id))]
            return {
                "run_id": task_run.run_id, "job_id": run.job_id, "parent_run_id": run.run_id,
                "number_in_job": task_run.run_id, "run_name": task_run.task_key, "run_type": run.run_type,
                "task_key": task_run.task_key, "attempt_number": task_run.attempt_number,
                "creator_user_name": "stepbricks@localhost", "run_page_url": tasks[0]["run_page_url"],
                "start_time": task_run.start_time, "end_time": task_run.end_time,
                "state": task_run.state.to_api(), "status": task_run.state.status_api(),
                "tasks": tasks, "format": "MULTI_TASK", "trigger": run.trigger,
            }
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
            "tasks": [t.to_api(self.page_url(run, t.run_id)) for t in run.visible_tasks()],
            "format": "MULTI_TASK", "trigger": run.trigger, "attempt_number": 0,
        }
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

    def _index(self, run: Run) -> None:
        self._runs[run.run_id] = run
        for task in run.tasks:
            self._task_parent[task.run_id] = run.run_id
        if run.idempotency_token:
            self._idempotency[run.idempotency_token] = run.run_id


def _idempotency_token(body: dict[str, Any]) -> str | None:
    token = body.get("idempotency_token")
    if token is not None and len(str(token)) > 64:
        raise InvalidParameterValue("idempotency_token must be at most 64 characters long.")
    return None if token in (None, "") else str(token)


def _check_parameter_slots(body: dict[str, Any]) -> None:
    if body.get("job_parameters") and any(body.get(p) for p in LEGACY_PARAMS):
        raise InvalidParameterValue(
            "Job parameters cannot be used together with legacy task parameters "
            f"({', '.join(p for p in LEGACY_PARAMS if body.get(p))})."
        )


def _mark_interrupted(run: Run) -> None:
    now = clock.now_ms()
    for task in run.tasks:
        if not task.state.terminal:
            task.state = RunState("INTERNAL_ERROR", "FAILED", RESTART_MESSAGE,
                                  termination_code="INTERNAL_ERROR", termination_type="INTERNAL_ERROR")
            task.end_time = now
    run.state = RunState("INTERNAL_ERROR", "FAILED", RESTART_MESSAGE,
                         termination_code="INTERNAL_ERROR", termination_type="INTERNAL_ERROR")
    run.end_time = now
    if run.repairs and run.repairs[-1].state is None:
        run.repairs[-1].state = copy.deepcopy(run.state)
        run.repairs[-1].end_time = now
