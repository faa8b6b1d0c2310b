"""Runs and task runs as the Jobs API reports them (the `Run` and `RunTask` objects).

A run keeps one `TaskRun` per attempt of each task: a retry appends a new entry with the next
`attempt_number` and its own `run_id`, as a workspace does.
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
    cluster_id: str | None = None
    output: TaskOutput = field(default_factory=TaskOutput)
    spark_session_reused: bool = False

    def to_api(self, run_page_url: str) -> dict[str, Any]:
        body = {k: v for k, v in self.task.items() if k not in ("max_retries",)}
        body.update(
            run_id=self.run_id,
            task_key=self.task_key,
            attempt_number=self.attempt_number,
            state=self.state.to_api(),
            status=self.state.status_api(),
            start_time=self.start_time,
            end_time=self.end_time,
            setup_duration=0,
            execution_duration=max(0, self.end_time - self.start_time) if self.end_time else 0,
            cleanup_duration=0,
            run_duration=max(0, self.end_time - self.start_time) if self.end_time else 0,
            run_page_url=run_page_url,
        )
        body.setdefault("run_if", "ALL_SUCCESS")
        if self.cluster_id:
            body["cluster_instance"] = {"cluster_id": self.cluster_id, "spark_context_id": str(self.run_id)}
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

    @property
    def multi_task(self) -> bool:
        return len(self.tasks_spec) > 1

    def latest_attempts(self) -> dict[str, TaskRun]:
        latest: dict[str, TaskRun] = {}
        for task_run in self.tasks:
            latest[task_run.task_key] = task_run
        return latest

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
        return cls(**data)
