"""A Glue job run as GetJobRun reports it, and the states it goes through.

States (Glue API `JobRunState`): STARTING -> RUNNING -> SUCCEEDED | FAILED | TIMEOUT, or STOPPING ->
STOPPED after BatchStopJobRun. The object quacks like moto's `FakeJobRun` (`job_run_id`, `status`,
`advance()`, `as_dict()`), so moto's GetJobRun / GetJobRuns (pagination, JobRunNotFound) serve it as is.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import Any

from sim import clock

__all__ = ["ACTIVE_STATES", "TERMINAL_STATES", "GlueJobRun"]

ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"})
# Glue's default job timeout: 2,880 minutes (48 hours) for Glue 3.0+ Spark jobs (CreateJob `Timeout`).
DEFAULT_TIMEOUT_MINUTES = 2880


@dataclass(eq=False)
class GlueJobRun:
    job_name: str
    job_run_id: str
    attempt: int
    arguments: dict[str, str]
    timeout_minutes: int
    max_retries: int
    worker_type: str | None = None
    number_of_workers: int | None = None
    max_capacity: float | None = None
    glue_version: str | None = None
    execution_class: str = "STANDARD"
    previous_run_id: str | None = None
    status: str = "STARTING"
    error_message: str | None = None
    started_on: datetime.datetime = field(default_factory=clock.utcnow)
    last_modified_on: datetime.datetime = field(default_factory=clock.utcnow)
    completed_on: datetime.datetime | None = None
    # Set when the run reaches a terminal state (a ClockEvent: waiters on the virtual clock wake at once).
    ended: threading.Event = field(default_factory=clock.ClockEvent)
    logs: str = ""

    def advance(self) -> None:
        """moto's ManagedState hook: our states move on their own."""

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATES

    def move(self, status: str, error_message: str | None = None) -> bool:
        """Go to `status` unless the run already ended (a stop racing the script's end); True if it moved."""
        if self.done:
            return False
        self.status = status
        self.last_modified_on = clock.utcnow()
        if error_message is not None:
            self.error_message = error_message
        if status in TERMINAL_STATES:
            self.completed_on = self.last_modified_on
            self.ended.set()
        return True

    @property
    def execution_time_s(self) -> int:
        """`ExecutionTime`: whole seconds the run consumed (0 until it is running); botocore's glue model: "The
        amount of time (in seconds) that the job run consumed resources"."""
        return int(self.elapsed_ms // 1000)

    @property
    def elapsed_ms(self) -> float:
        """Milliseconds since the run started, to its end: the `glue.driver.aggregate.elapsedTime` metric,
        which Glue reports in milliseconds (a sub-second run is not 0, as its whole-second `ExecutionTime` is).
        Glue's excludes the job's bootstrap; a local run's start-up is its script's own, so it is counted."""
        end = self.completed_on or clock.utcnow()
        return max(0.0, (end - self.started_on).total_seconds() * 1000.0)

    def as_dict(self) -> dict[str, Any]:
        """The `JobRun` structure of GetJobRun / GetJobRuns (botocore glue service-2.json)."""
        run: dict[str, Any] = {
            "Id": self.job_run_id,
            "Attempt": self.attempt,
            "JobName": self.job_name,
            "JobMode": "SCRIPT",
            "StartedOn": self.started_on,
            "LastModifiedOn": self.last_modified_on,
            "JobRunState": self.status,
            "Arguments": dict(self.arguments),
            "PredecessorRuns": [],
            "ExecutionTime": self.execution_time_s,
            "Timeout": self.timeout_minutes,
            "LogGroupName": "/aws-glue/jobs",
            "ExecutionClass": self.execution_class,
        }
        optional = {"PreviousRunId": self.previous_run_id, "CompletedOn": self.completed_on,
                    "ErrorMessage": self.error_message, "WorkerType": self.worker_type,
                    "NumberOfWorkers": self.number_of_workers, "MaxCapacity": self.max_capacity,
                    "GlueVersion": self.glue_version}
        run.update({k: v for k, v in optional.items() if v is not None})
        return run
