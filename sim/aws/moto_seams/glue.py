"""Glue job runs that really run: moto's Glue API routed to `sim.aws.glue.GlueService`.

moto's `FakeJobRun` goes STARTING -> RUNNING -> SUCCEEDED on successive reads without running anything,
and moto has no BatchStopJobRun. Here StartJobRun downloads the job's script and runs it on a local
Spark cluster (see sim/aws/glue/service.py); GetJobRun / GetJobRuns keep moto's code (the run object
quacks like its FakeJobRun); BatchStopJobRun is added to moto's response class.

The service is created on the first StartJobRun, against the newest running simulator (its endpoint is
`MOTO_PORT`), and shut down — cluster worker included — once no simulator is running any more.
`configure()` lets the simulator choose the state directory and environment first.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from moto.core.responses import ActionResult
from moto.glue.exceptions import ConcurrentRunsExceededException
from moto.glue.models import FakeJob
from moto.glue.responses import GlueResponse

from sim.aws.glue import GlueJob, GlueJobRun, GlueService
from sim.aws.glue.runs import ACTIVE_STATES
from sim.aws.moto_seams.core import Seam, register

__all__ = ["configure", "service", "shutdown"]

_lock = threading.Lock()
_service: GlueService | None = None
_settings: dict[str, Any] = {}
_listeners: list[Any] = []
_exit_hook: list[bool] = []  # atexit is registered with the first service, never on import


def configure(*, state_dir: Path | None = None, base_env: dict[str, str] | None = None) -> None:
    """Where the next Glue service keeps scripts and its cluster, and the environment its runs get.

    A service already running for another simulator's endpoint is stopped: the Glue service is the newest
    simulator's, and one kept bound to an older (possibly stopped) simulator downloaded scripts from it."""
    global _service
    stale = None
    with _lock:
        _settings.update({k: v for k, v in {"state_dir": state_dir, "base_env": base_env}.items() if v is not None})
        if _service is not None and base_env is not None and _service._base_env != base_env:
            stale, _service = _service, None
    if stale is not None:
        stale.shutdown()


def add_listener(listener: Any) -> None:
    """Call `listener(run, job)` when any run ends (metrics); kept across service restarts."""
    with _lock:
        _listeners.append(listener)
    current = _service
    if current is not None and listener not in current.listeners:
        current.listeners.append(listener)


def service() -> GlueService:
    """The running Glue service, started on first use."""
    global _service
    with _lock:
        if _service is None:
            port = os.environ.get("MOTO_PORT", "5000")
            env = _settings.get("base_env") or {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
            _service = GlueService(state_dir=_settings.get("state_dir"), base_env=env)
            _service.listeners.extend(_listeners)
            if not _exit_hook:
                atexit.register(shutdown)  # a process that exits with a Glue run still going stops its worker
                _exit_hook.append(True)
        return _service


def shutdown() -> None:
    """Stop the Glue service (runs and cluster worker); the next StartJobRun starts a new one."""
    global _service
    with _lock:
        current, _service = _service, None
        _settings.clear()
    if current is not None:
        current.shutdown()


def _job_spec(job: FakeJob) -> GlueJob:
    command = job.command or {}
    return GlueJob(
        name=job.name, script_location=str(command.get("ScriptLocation") or ""),
        account_id=job.backend.account_id, region=job.backend.region_name,
        default_arguments=dict(job.default_arguments or {}),
        non_overridable_arguments=dict(job.non_overridable_arguments or {}),
        max_retries=int(job.max_retries or 0), timeout_minutes=job.timeout, worker_type=job.worker_type,
        number_of_workers=job.number_of_workers,
        max_capacity=None if job.max_capacity is None else float(job.max_capacity),
        glue_version=job.glue_version, execution_class=job.execution_class or "STANDARD",
    )


def _start_job_run(self: FakeJob, allocated_capacity: int | None, max_capacity: float | None, timeout: int | None,
                   worker_type: str | None, security_configuration: str | None, number_of_workers: int | None,
                   notification_property: dict[str, int] | None, previous_run_id: str | None,
                   arguments: dict[str, str] | None) -> str:
    """Replaces `moto.glue.models.FakeJob.start_job_run`.

    Restores: the run executes the job's script on local Spark with Glue's states, ErrorMessage,
    ExecutionTime, Timeout and MaxRetries (moto's run succeeds on the third read without running
    anything). MaxConcurrentRuns is checked as moto and AWS do. Newest runs are listed first.
    """
    running = [r for r in self.job_runs if r.status in ACTIVE_STATES]
    if len(running) >= int((self.execution_property or {}).get("MaxConcurrentRuns", 1)):
        raise ConcurrentRunsExceededException(f"Job with name {self.name} already running")

    def attach(run: GlueJobRun) -> None:
        self.job_runs.insert(0, run)

    run = service().start_run(_job_spec(self), arguments=arguments, timeout_minutes=timeout, attach=attach,
                              previous_run_id=previous_run_id, worker_type=worker_type,
                              number_of_workers=number_of_workers, max_capacity=max_capacity)
    return run.job_run_id


def _batch_stop_job_run(self: GlueResponse) -> ActionResult:
    """BatchStopJobRun (moto lacks it): stops each active run; unknown or finished runs are listed in
    `Errors` with an ErrorDetail, as the API reference describes."""
    job_name = self._get_param("JobName")
    job = self.glue_backend.get_job(job_name)  # EntityNotFoundException for an unknown job, as on AWS
    successes, errors = [], []
    for run_id in self._get_param("JobRunIds") or []:
        run = next((r for r in job.job_runs if r.job_run_id == run_id), None)
        if not isinstance(run, GlueJobRun):
            errors.append({"JobName": job_name, "JobRunId": run_id, "ErrorDetail": {
                "ErrorCode": "EntityNotFoundException", "ErrorMessage": f"Job run {run_id} not found."}})
        elif run.done:
            errors.append({"JobName": job_name, "JobRunId": run_id, "ErrorDetail": {
                "ErrorCode": "InvalidInputException",
                "ErrorMessage": f"Job run {run_id} is in terminal state {run.status} and cannot be stopped."}})
        else:
            service().stop_run(run)
            successes.append({"JobName": job_name, "JobRunId": run_id})
    return ActionResult({"SuccessfulSubmissions": successes, "Errors": errors})

register(
    [(FakeJob, "start_job_run", _start_job_run),
     (GlueResponse, "batch_stop_job_run", _batch_stop_job_run)],  # added: moto has no such action
    [
        Seam(FakeJob, "start_job_run", ("self", "allocated_capacity", "max_capacity", "timeout", "worker_type",
                                        "security_configuration", "number_of_workers", "notification_property",
                                        "previous_run_id", "arguments"), _start_job_run.__doc__ or "",
             proved_by="tests/sim/aws/glue/test_glue_job_runs.py::test_unsupported_awsglue_api_fails_the_run_naming_it_and_max_retries_retry_it"),
        Seam(FakeJob, "get_job_run", ("self", "run_id"), "GetJobRun reads FakeJob.job_runs, where runs are attached",
             proved_by="tests/sim/aws/glue/test_glue_job_runs.py::test_a_run_that_hangs_times_out_after_its_timeout_on_the_virtual_clock"),
        Seam(FakeJob, "get_job_runs", ("self",), "GetJobRuns reads FakeJob.job_runs, where runs are attached",
             proved_by="tests/sim/aws/glue/test_glue_job_runs.py::test_unsupported_awsglue_api_fails_the_run_naming_it_and_max_retries_retry_it"),
        Seam(GlueResponse, "batch_stop_job_run", (), _batch_stop_job_run.__doc__ or "", adds=True,
             proved_by="tests/sim/aws/glue/test_glue_job_runs.py::test_batch_stop_job_run_stops_an_active_run_and_reports_unknown_ones"),
    ],
)
