"""Job definitions, persisted. Settings are kept as the client sent them (JobSettings JSON)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim import clock
from sim.databricks.errors import InvalidParameterValue, JobDoesNotExist
from sim.databricks.paging import Page, paginate
from sim.databricks.runs import references
from sim.databricks.store import Store
from sim.databricks.triggers.validation import validate_triggers

TASK_TYPES = ("notebook_task", "spark_python_task", "python_wheel_task")
CREATOR = "stepbricks@localhost"
MAX_LIST_LIMIT = 100


@dataclass
class Job:
    job_id: int
    created_time: int
    settings: dict[str, Any]
    creator_user_name: str = CREATOR

    def to_api(self, *, expand_tasks: bool = True) -> dict[str, Any]:
        settings = copy.deepcopy(self.settings)
        if not expand_tasks:
            settings.pop("tasks", None)
            settings.pop("job_clusters", None)
        return {
            "job_id": self.job_id,
            "created_time": self.created_time,
            "creator_user_name": self.creator_user_name,
            "run_as_user_name": self.creator_user_name,
            "settings": settings,
        }


def job_tasks(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's tasks; a legacy single-task job (top-level `notebook_task`, API 2.0) becomes one task."""
    if settings.get("tasks"):
        return settings["tasks"]
    for kind in TASK_TYPES:
        if kind in settings:
            task = {"task_key": settings.get("name") or "task", kind: settings[kind]}
            for field in ("existing_cluster_id", "new_cluster", "max_retries", "min_retry_interval_millis",
                          "retry_on_timeout", "timeout_seconds", "libraries"):
                if field in settings:
                    task[field] = settings[field]
            return [task]
    return []


MAX_FOR_EACH_CONCURRENCY = 100  # the Jobs UI's limit for "Concurrency"
CONDITION_OPS = ("EQUAL_TO", "NOT_EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL")


def validate_tasks(tasks: list[dict[str, Any]], job_clusters: list[dict[str, Any]] | None = None,
                   parameters: list[dict[str, Any]] | None = None) -> None:
    """The checks a workspace makes before accepting tasks: keys, dependencies, compute references,
    control-flow settings and dynamic value references. Messages marked (guess) are unconfirmed."""
    keys: set[str] = set()
    for i, task in enumerate(tasks):
        key = task.get("task_key")
        if not key:
            raise InvalidParameterValue(f"Missing required field: tasks[{i}].task_key")
        if key in keys:
            raise InvalidParameterValue(f"Task key {key} is duplicated in the job settings.")
        keys.add(key)
    cluster_keys = {c.get("job_cluster_key") for c in job_clusters or []}
    for task in tasks:
        for dep in task.get("depends_on") or []:
            if dep.get("task_key") not in keys:
                raise InvalidParameterValue(
                    f"Invalid dependency graph, task '{task['task_key']}' depends on nonexistent task "
                    f"'{dep.get('task_key')}'."
                )
        _check_control_flow(task, {t["task_key"]: t for t in tasks})
        jck = task.get("job_cluster_key")
        if jck is not None and jck not in cluster_keys:
            raise InvalidParameterValue(
                f"Task {task['task_key']} refers to job cluster {jck}, which is not defined in job_clusters."
            )
    _check_acyclic(tasks)
    try:
        references.check_job(tasks, parameters)
    except references.InvalidReference as e:
        raise InvalidParameterValue(str(e)) from None


def _check_control_flow(task: dict[str, Any], by_key: dict[str, dict[str, Any]]) -> None:
    for dep in task.get("depends_on") or []:
        outcome = dep.get("outcome")
        if outcome is None:
            continue
        if "condition_task" not in by_key[dep["task_key"]]:
            raise InvalidParameterValue(  # (guess) the SDK: "Can only be specified on condition task dependencies"
                f"Task {task['task_key']} depends on task {dep['task_key']} with an outcome, but "
                f"{dep['task_key']} is not a condition task.")
        if outcome not in ("true", "false"):
            raise InvalidParameterValue(  # (guess)
                f"Invalid outcome '{outcome}' in the dependency of task {task['task_key']} on "
                f"{dep['task_key']}: it must be 'true' or 'false'.")
    for_each = task.get("for_each_task")
    if for_each is not None:
        nested = for_each.get("task") or {}
        if "inputs" not in for_each or not nested.get("task_key"):
            raise InvalidParameterValue(  # (guess)
                f"Task {task['task_key']}: for_each_task needs inputs and a task with a task_key.")
        if "for_each_task" in nested:
            raise InvalidParameterValue(f"Task {task['task_key']}: nested For each tasks are not supported.")  # (guess)
        if not 1 <= int(for_each.get("concurrency") or 1) <= MAX_FOR_EACH_CONCURRENCY:
            raise InvalidParameterValue(  # (guess)
                f"Task {task['task_key']}: for_each_task.concurrency must be between 1 and "
                f"{MAX_FOR_EACH_CONCURRENCY}.")
        _check_control_flow({**nested, "depends_on": []}, by_key)
    run_job = task.get("run_job_task")
    if run_job is not None and not run_job.get("job_id"):
        raise InvalidParameterValue("Missing required field: run_job_task.job_id")  # (guess)
    condition = task.get("condition_task")
    if condition is not None:
        if condition.get("op") not in CONDITION_OPS:
            raise InvalidParameterValue(  # (guess)
                f"Invalid condition_task.op '{condition.get('op')}' in task {task['task_key']}.")
        for side in ("left", "right"):
            if side not in condition:
                raise InvalidParameterValue(f"Missing required field: condition_task.{side}")  # (guess)


def _check_acyclic(tasks: list[dict[str, Any]]) -> None:
    deps = {t["task_key"]: [d["task_key"] for d in t.get("depends_on") or []] for t in tasks}
    state: dict[str, int] = {}

    def visit(key: str) -> None:
        if state.get(key) == 1:
            raise InvalidParameterValue(f"Invalid dependency graph: a cycle goes through task '{key}'.")
        if state.get(key) == 2:
            return
        state[key] = 1
        for dep in deps[key]:
            visit(dep)
        state[key] = 2

    for key in deps:
        visit(key)


class JobsBackend:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {d["job_id"]: Job(**d) for d in store.all("job")}
        self.listeners: list[Callable[[int], None]] = []  # called with the job id after every change

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def _changed(self, job_id: int) -> None:
        for listener in self.listeners:
            listener(job_id)

    def create(self, settings: dict[str, Any]) -> int:
        settings = _with_defaults(settings)
        validate_tasks(job_tasks(settings), settings.get("job_clusters"), settings.get("parameters"))
        validate_triggers(settings)
        with self._lock:
            job = Job(job_id=self._store.next_id("job", 1001), created_time=clock.now_ms(), settings=settings)
            self._save(job)
        self._changed(job.job_id)
        return job.job_id

    def get(self, job_id: int) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise JobDoesNotExist(job_id)
        return job

    def list(self, *, limit: int, offset: int, page_token: str | None, name: str | None) -> Page[Job]:
        if not 0 <= limit <= MAX_LIST_LIMIT:
            raise InvalidParameterValue(f"The limit must be between 0 and {MAX_LIST_LIMIT}, got {limit}.")
        jobs = sorted(self._jobs.values(), key=lambda j: j.job_id, reverse=True)  # newest first
        if name is not None:
            jobs = [j for j in jobs if (j.settings.get("name") or "").lower() == name.lower()]
        return paginate(jobs, limit=limit or 20, offset=offset, page_token=page_token)

    def reset(self, job_id: int, new_settings: dict[str, Any]) -> None:
        job = self.get(job_id)
        settings = _with_defaults(new_settings)
        validate_tasks(job_tasks(settings), settings.get("job_clusters"), settings.get("parameters"))
        validate_triggers(settings)
        with self._lock:
            job.settings = settings
            self._save(job)
        self._changed(job_id)

    def update(self, job_id: int, new_settings: dict[str, Any] | None, fields_to_remove: list[str] | None) -> None:
        job = self.get(job_id)
        settings = copy.deepcopy(job.settings)
        for field, value in (new_settings or {}).items():
            if field in ("tasks", "job_clusters") and isinstance(value, list):
                key = "task_key" if field == "tasks" else "job_cluster_key"
                merged = {item[key]: item for item in settings.get(field, [])}
                merged.update({item[key]: item for item in value})
                settings[field] = list(merged.values())
            else:
                settings[field] = value
        for field in fields_to_remove or []:
            top, _, key = field.partition("/")
            if key and top in ("tasks", "job_clusters"):
                key_name = "task_key" if top == "tasks" else "job_cluster_key"
                settings[top] = [item for item in settings.get(top, []) if item.get(key_name) != key]
            else:
                settings.pop(top, None)
        validate_tasks(job_tasks(settings), settings.get("job_clusters"), settings.get("parameters"))
        validate_triggers(settings)
        with self._lock:
            job.settings = settings
            self._save(job)
        self._changed(job_id)

    def delete(self, job_id: int) -> None:
        self.get(job_id)
        with self._lock:
            del self._jobs[job_id]
            self._store.delete("job", job_id)
        self._changed(job_id)

    def _save(self, job: Job) -> None:
        self._jobs[job.job_id] = job
        self._store.put(
            "job",
            job.job_id,
            {"job_id": job.job_id, "created_time": job.created_time, "settings": job.settings,
             "creator_user_name": job.creator_user_name},
        )


def _with_defaults(settings: dict[str, Any]) -> dict[str, Any]:
    settings = copy.deepcopy(settings or {})
    settings.setdefault("name", "Untitled")
    settings.setdefault("email_notifications", {})
    settings.setdefault("max_concurrent_runs", 1)
    settings.setdefault("timeout_seconds", 0)
    settings.setdefault("format", "MULTI_TASK")
    return settings
