"""Runs and task runs as the Jobs API reports them (the `Run` and `RunTask` objects).

A run keeps one `TaskRun` per attempt of each task: a retry appends a new entry with the next
`attempt_number` and its own `run_id`, as a workspace does. A repair (runs/repair) appends fresh task
runs tagged with its `repair_id`; the API's `tasks` then shows, per task, only the attempts of the
execution that ran it last, and `repair_history` keeps the ORIGINAL and every REPAIR.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

TERMINAL_LIFE_CYCLES = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
# RunLifecycleStateV2State (the `status.state` field) for each life_cycle_state.
_STATUS_STATE = {
    "QUEUED": "QUEUED",
    "PENDING": "PENDING",
    "RUNNING": "RUNNING",
    "TERMINATING": "TERMINATING",
    "TERMINATED": "TERMINATED",
    "SKIPPED": "TERMINATED",
    "INTERNAL_ERROR": "TERMINATED",
    "BLOCKED": "BLOCKED",
    "WAITING_FOR_RETRY": "WAITING",
}
FAILED_RESULTS = ("FAILED", "TIMEDOUT", "UPSTREAM_FAILED")
CANCELED_RESULTS = ("CANCELED", "UPSTREAM_CANCELED")


@dataclass
class RunState:
    life_cycle_state: str = "PENDING"
    result_state: str | None = None
    state_message: str = ""
    user_cancelled_or_timedout: bool = False
    # status.termination_details, set once terminal
    termination_code: str | None = None
    termination_type: str | None = None

    @property
    def terminal(self) -> bool:
        return self.life_cycle_state in TERMINAL_LIFE_CYCLES

    def to_api(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "life_cycle_state": self.life_cycle_state,
            "state_message": self.state_message,
            "user_cancelled_or_timedout": self.user_cancelled_or_timedout,
        }
        if self.result_state:
            state["result_state"] = self.result_state
        return state

    def status_api(self) -> dict[str, Any]:
        status: dict[str, Any] = {"state": _STATUS_STATE[self.life_cycle_state]}
        if self.termination_code:
            status["termination_details"] = {
                "code": self.termination_code,
                "type": self.termination_type,
                "message": self.state_message,
            }
        return status


@dataclass
class TaskOutput:
    notebook_result: str | None = None
    error: str | None = None
    error_trace: str | None = None
    logs: str = ""


@dataclass
class TaskRun:
    run_id: int
    task_key: str
    attempt_number: int
    task: dict[str, Any]  # the task's settings as submitted (notebook_task, depends_on, ...)
    state: RunState = field(default_factory=RunState)
    start_time: int = 0
    end_time: int = 0
    # Jobs API task timings: setup = waiting for the cluster (a cold start, a PENDING cluster) before the
    # code ran; execution = the code; cleanup = after it, until the task run ended.
    setup_duration: int = 0
    cleanup_duration: int = 0
    cluster_id: str | None = None
    output: TaskOutput = field(default_factory=TaskOutput)
    spark_session_reused: bool = False
    repair_id: int | None = None  # None: ran in the original run
    # dbutils.jobs.taskValues set by this attempt: kept so a repair's downstream tasks can still read them.
    task_values: dict[str, Any] = field(default_factory=dict)
    # What the run adds to the task's own settings block in the API, e.g. {"condition_task": {"outcome":
    # "true"}} (RunConditionTask.outcome) or a For each task's stats.
    api_extras: dict[str, dict[str, Any]] = field(default_factory=dict)
    # An iteration of a For each task: that task run's id, and the item it runs with (JSON text).
    iteration_of: int | None = None
    iteration_input: str | None = None
    child_run_id: int | None = None  # a Run Job task: the job run it started (get-output's run_job_output)
    # runs/get `include_resolved_values`: the task's parameters as it ran them, references resolved
    # (databricks-sdk ResolvedValues: {"notebook_task": {"base_parameters": {...}}, "condition_task": ...}).
    resolved_values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def next_attempt(self, run_id: int) -> TaskRun:
        """The retry of this attempt: same task (and iteration), next attempt number, WAITING_FOR_RETRY."""
        return TaskRun(run_id, self.task_key, self.attempt_number + 1, self.task, RunState("WAITING_FOR_RETRY"),
                       repair_id=self.repair_id, iteration_of=self.iteration_of,
                       iteration_input=self.iteration_input)

    @property
    def condition_outcome(self) -> str | None:
        """"true" / "false" once a condition task succeeded, else None."""
        return (self.api_extras.get("condition_task") or {}).get("outcome")

    @property
    def execution_duration(self) -> int:
        """The task run's duration less its setup and cleanup (the three sum to it, as the API says)."""
        if not self.end_time:
            return 0
        return max(0, self.end_time - self.start_time - self.setup_duration - self.cleanup_duration)

    def to_api(self, run_page_url: str, *, include_resolved_values: bool = False) -> dict[str, Any]:
        body = {k: v for k, v in self.task.items() if k not in ("max_retries",)}
        if include_resolved_values and self.resolved_values:
            body["resolved_values"] = self.resolved_values
        for key, extra in self.api_extras.items():
            body[key] = {**(body.get(key) or {}), **extra}
        body.update(
            run_id=self.run_id,
            task_key=self.task_key,
            attempt_number=self.attempt_number,
            state=self.state.to_api(),
            status=self.state.status_api(),
            start_time=self.start_time,
            end_time=self.end_time,
            setup_duration=self.setup_duration,
            execution_duration=self.execution_duration,
            cleanup_duration=self.cleanup_duration,
            run_duration=max(0, self.end_time - self.start_time) if self.end_time else 0,
            run_page_url=run_page_url,
        )
        body.setdefault("run_if", "ALL_SUCCESS")
        if self.cluster_id:
            body["cluster_instance"] = {"cluster_id": self.cluster_id, "spark_context_id": str(self.run_id)}
        return body


@dataclass
class RepairRecord:
    """One `repair_history` item: the ORIGINAL execution (snapshot taken at the first repair) or a REPAIR.

    The open (latest) repair has no `state` of its own yet: it reports the run's live state until the
    scheduler closes it with the run's verdict."""

    type: str  # ORIGINAL | REPAIR
    start_time: int
    end_time: int = 0
    id: int | None = None
    state: RunState | None = None
    task_run_ids: list[int] = field(default_factory=list)

    def to_api(self, live: RunState) -> dict[str, Any]:
        state = self.state or live
        body: dict[str, Any] = {"type": self.type, "start_time": self.start_time, "end_time": self.end_time,
                                "state": state.to_api(), "status": state.status_api(),
                                "task_run_ids": list(self.task_run_ids)}
        if self.id is not None:
            body["id"] = self.id
        return body


@dataclass
class Run:
    run_id: int
    run_type: str  # JOB_RUN | SUBMIT_RUN
    run_name: str
    job_id: int | None
    tasks_spec: list[dict[str, Any]]
    job_clusters: list[dict[str, Any]] = field(default_factory=list)
    timeout_seconds: int = 0
    job_parameters: list[dict[str, Any]] = field(default_factory=list)
    overriding_parameters: dict[str, Any] = field(default_factory=dict)
    idempotency_token: str | None = None
    start_time: int = 0
    end_time: int = 0
    state: RunState = field(default_factory=RunState)
    tasks: list[TaskRun] = field(default_factory=list)
    cancel_requested: bool = False
    repairs: list[RepairRecord] = field(default_factory=list)  # [ORIGINAL, REPAIR, ...] once repaired
    # TriggerType: ONE_TIME (run-now, submit), PERIODIC (schedule, periodic), FILE_ARRIVAL, CONTINUOUS, or
    # RUN_JOB_TASK for a run a Run Job task started
    trigger: str = "ONE_TIME"
    trigger_info: dict[str, Any] | None = None  # {"run_id": <the Run Job task run>} for RUN_JOB_TASK

    @property
    def multi_task(self) -> bool:
        return len(self.tasks_spec) > 1

    @property
    def latest_repair_id(self) -> int | None:
        return self.repairs[-1].id if self.repairs else None

    def latest_attempts(self) -> dict[str, TaskRun]:
        """The last attempt of each of the run's tasks (For each iterations are not tasks of the run)."""
        latest: dict[str, TaskRun] = {}
        for task_run in self.tasks:
            if task_run.iteration_of is None:
                latest[task_run.task_key] = task_run
        return latest

    def visible_tasks(self) -> list[TaskRun]:
        """What `tasks` shows: per task, the attempts of the execution (original or repair) that ran it last."""
        current = {key: t.repair_id for key, t in self.latest_attempts().items()}
        return [t for t in self.tasks if t.iteration_of is None and t.repair_id == current[t.task_key]]

    def iterations(self, for_each_run_id: int) -> list[TaskRun]:
        """Every attempt of every iteration of one For each task run, in the order they started."""
        return [t for t in self.tasks if t.iteration_of == for_each_run_id]

    def history_api(self) -> list[dict[str, Any]]:
        """`repair_history`: a never-repaired run still has its ORIGINAL item (Airflow's
        DatabricksHook.get_latest_repair_id reads `repair_history[-1]` and expects one item then)."""
        if not self.repairs:
            original = RepairRecord("ORIGINAL", self.start_time, self.end_time,
                                    task_run_ids=[t.run_id for t in self.tasks if t.iteration_of is None])
            return [original.to_api(self.state)]
        return [r.to_api(self.state) for r in self.repairs]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        data = dict(data)
        data["state"] = RunState(**data["state"])
        data["tasks"] = [
            TaskRun(**{**t, "state": RunState(**t["state"]), "output": TaskOutput(**t["output"])})
            for t in data["tasks"]
        ]
        data["repairs"] = [
            RepairRecord(**{**r, "state": RunState(**r["state"]) if r.get("state") else None})
            for r in data.get("repairs") or []
        ]
        return cls(**data)
