"""Creating runs: a job run (run-now, or a Run Job task starting a child job) and a one-time submit run.

The factory decides a new run's first state (PENDING; QUEUED behind `max_concurrent_runs` when the
job's queue is enabled; SKIPPED at the limit otherwise) and registers it; whoever asked starts it (the
runs service for API requests, the scheduler for a Run Job task's child run).
"""

from __future__ import annotations

import copy
from typing import Any

from sim import clock
from sim.databricks.errors import InvalidParameterValue
from sim.databricks.jobs.models import TASK_TYPES, JobsBackend, job_tasks, validate_tasks
from sim.databricks.runs.models import Run, RunState
from sim.databricks.runs.registry import RunRegistry

LEGACY_PARAMS = ("notebook_params", "python_params", "python_named_params", "jar_params",
                 "spark_submit_params", "sql_params", "dbt_commands", "pipeline_params")


class RunFactory:
    def __init__(self, registry: RunRegistry, jobs: JobsBackend) -> None:
        self._registry = registry
        self._jobs = jobs

    def job_run(self, body: dict[str, Any], *, trigger: str = "ONE_TIME",
                trigger_info: dict[str, Any] | None = None) -> tuple[Run, bool]:
        """A run of `body["job_id"]` (a run-now body); True when it is new and must be started."""
        job = self._jobs.get(int(body.get("job_id") or 0))
        token = _idempotency_token(body)
        check_parameter_slots(body)
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
            trigger_info=trigger_info,
        )

    def submit_run(self, body: dict[str, Any]) -> tuple[Run, bool]:
        """A one-time run of the submitted tasks; True when it is new and must be started."""
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
                queue: bool, trigger: str = "ONE_TIME", trigger_info: dict[str, Any] | None = None,
                ) -> tuple[Run, bool]:
        with self._registry.lock:
            known = self._registry.by_token(token) if token is not None else None
            if known is not None:
                return known, False
            run_id = self._registry.new_run_id()
            run = Run(
                run_id=run_id, run_type=run_type, run_name=run_name, job_id=job_id if job_id else run_id,
                tasks_spec=tasks, job_clusters=job_clusters, timeout_seconds=timeout_seconds,
                job_parameters=job_parameters, overriding_parameters=overriding, idempotency_token=token,
                start_time=clock.now_ms(), trigger=trigger, trigger_info=trigger_info,
            )
            if run_type == "SUBMIT_RUN":
                run.job_id = None
            active = self._registry.active_runs(job_id) if job_id is not None else []
            skip = bool(max_concurrent and len(active) >= max_concurrent and not queue)
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
            self._registry.add(run)
        return run, not skip


def _idempotency_token(body: dict[str, Any]) -> str | None:
    token = body.get("idempotency_token")
    if token is not None and len(str(token)) > 64:
        raise InvalidParameterValue("idempotency_token must be at most 64 characters long.")
    return None if token in (None, "") else str(token)


def check_parameter_slots(body: dict[str, Any]) -> None:
    """job_parameters and the legacy task parameter slots are exclusive."""
    if body.get("job_parameters") and any(body.get(p) for p in LEGACY_PARAMS):
        raise InvalidParameterValue(
            "Job parameters cannot be used together with legacy task parameters "
            f"({', '.join(p for p in LEGACY_PARAMS if body.get(p))})."
        )
