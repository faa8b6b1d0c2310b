"""`GlueService`: Glue job runs executed for real on a local Spark cluster.

A run = one `python_file` task on a `ClusterManager` cluster (the same worker processes with a warm
SparkSession the fake Databricks workspace uses): the task is `runtime/glue_bootstrap.py` with the
job's script (downloaded from its `ScriptLocation`) and Glue's arguments, and `runtime/` on its
`sys.path`, so `import awsglue` finds stepbricks' stand-in there and nowhere else.

Honoured: `Timeout` (minutes; the run ends TIMEOUT), `MaxRetries` (a FAILED run is retried as
`<id>_attempt_<n>` with `Attempt` n and `PreviousRunId`; TIMEOUT and STOPPED runs are not), BatchStopJobRun
(STOPPING, then STOPPED once the attempt is cancelled) and fault plans (`glue` target: `error` fails the
attempt with that message, `timeout` keeps it RUNNING until its timeout).
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import boto_clients, clock, faults
from sim.aws.glue.runs import DEFAULT_TIMEOUT_MINUTES, GlueJobRun
from sim.compute import ClusterManager, TaskInvocation, TaskResult

__all__ = ["BOOTSTRAP", "RUNTIME_DIR", "GlueJob", "GlueService"]

RUNTIME_DIR = Path(__file__).parent / "runtime"
BOOTSTRAP = RUNTIME_DIR / "glue_bootstrap.py"
LOG_GROUP_OUTPUT = "/aws-glue/jobs/output"
LOG_GROUP_ERROR = "/aws-glue/jobs/error"


@dataclass(frozen=True)
class GlueJob:
    """What a run needs from the job definition (CreateJob), decoupled from moto's model."""

    name: str
    script_location: str
    account_id: str = "123456789012"
    region: str = "us-east-1"
    default_arguments: dict[str, str] = field(default_factory=dict)
    non_overridable_arguments: dict[str, str] = field(default_factory=dict)
    max_retries: int = 0
    timeout_minutes: int | None = None
    worker_type: str | None = None
    number_of_workers: int | None = None
    max_capacity: float | None = None
    glue_version: str | None = None
    execution_class: str = "STANDARD"


RunListener = Callable[[GlueJobRun, GlueJob], None]


class GlueService:
    """Thread-safe; `shutdown()` stops every run and the cluster's worker process."""

    def __init__(self, *, state_dir: Path | None, base_env: dict[str, str], seed: int = 0) -> None:
        self._owned_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="stepbricks-glue-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._base_env = dict(base_env)
        self._seed = seed
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._clusters: ClusterManager | None = None
        self._handles: dict[str, Any] = {}
        self._stop_requests: dict[str, threading.Event] = {}
        self._closed = False
        self.listeners: list[RunListener] = []  # called once per run when it reaches a terminal state

    # --- runs -----------------------------------------------------------------------------------------
    def start_run(self, job: GlueJob, *, arguments: dict[str, str] | None, timeout_minutes: int | None,
                  attach: Callable[[GlueJobRun], None], previous_run_id: str | None = None,
                  worker_type: str | None = None, number_of_workers: int | None = None,
                  max_capacity: float | None = None) -> GlueJobRun:
        """Create a run (STARTING), hand it to `attach` (moto's job keeps it), and execute it in the background."""
        merged = {**job.default_arguments, **(arguments or {}), **job.non_overridable_arguments}
        run = GlueJobRun(
            job_name=job.name, job_run_id=self._new_id(job.name), attempt=0, arguments=merged,
            timeout_minutes=timeout_minutes or job.timeout_minutes or DEFAULT_TIMEOUT_MINUTES,
            max_retries=job.max_retries, worker_type=worker_type or job.worker_type,
            number_of_workers=number_of_workers or job.number_of_workers,
            max_capacity=max_capacity or job.max_capacity, glue_version=job.glue_version,
            execution_class=job.execution_class, previous_run_id=previous_run_id,
        )
        self._launch(run, job, attach)
        return run

    def stop_run(self, run: GlueJobRun) -> None:
        """BatchStopJobRun for one run: STOPPING now, STOPPED once its attempt has been cancelled."""
        if run.done:
            return
        run.move("STOPPING")
        with self._lock:
            handle = self._handles.get(run.job_run_id)
            request = self._stop_requests.get(run.job_run_id)
        if request is not None:
            request.set()
        if handle is not None:
            handle.cancel()

    def _new_id(self, job_name: str) -> str:
        digest = hashlib.sha256(f"{self._seed}:{job_name}:{next(self._numbers)}".encode()).hexdigest()
        return f"jr_{digest}"

    def _launch(self, run: GlueJobRun, job: GlueJob, attach: Callable[[GlueJobRun], None]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the Glue service has shut down")
            self._stop_requests[run.job_run_id] = clock.ClockEvent()
        attach(run)
        clock.ActorThread(target=self._execute, args=(run, job, attach), daemon=True,
                          name=f"glue-{run.job_run_id[:12]}").start()

    def _execute(self, run: GlueJobRun, job: GlueJob, attach: Callable[[GlueJobRun], None]) -> None:
        try:
            self._attempt(run, job)
        except Exception as exc:  # the simulator's own failure must still end the run
            run.move("FAILED", f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._handles.pop(run.job_run_id, None)
                self._stop_requests.pop(run.job_run_id, None)
        self._write_logs(run, job)
        for listener in list(self.listeners):
            try:
                listener(run, job)
            except Exception:  # a metrics listener must not break the run
                pass
        if run.status == "FAILED" and run.attempt < run.max_retries and not self._closed:
            retry = GlueJobRun(
                job_name=run.job_name, job_run_id=f"{run.job_run_id.split('_attempt_')[0]}_attempt_{run.attempt + 1}",
                attempt=run.attempt + 1, arguments=dict(run.arguments), timeout_minutes=run.timeout_minutes,
                max_retries=run.max_retries, worker_type=run.worker_type, number_of_workers=run.number_of_workers,
                max_capacity=run.max_capacity, glue_version=run.glue_version, execution_class=run.execution_class,
                previous_run_id=run.job_run_id,
            )
            self._launch(retry, job, attach)

    def _attempt(self, run: GlueJobRun, job: GlueJob) -> None:
        effect = faults.active().take("glue", job.name)
        script = self._fetch_script(run, job)
        if script is None:
            return
        run.move("RUNNING")
        timeout_s = run.timeout_minutes * 60.0
        with self._lock:
            stop = self._stop_requests[run.job_run_id]
        if effect is not None and "error" in effect:
            run.move("FAILED", str(effect["error"]))
            return
        if effect is not None and effect.get("timeout"):
            if clock.get().wait(stop, timeout_s):
                run.move("STOPPED")
            else:
                run.move("TIMEOUT", _timeout_message(run))
            return
        argv = [str(script), "--JOB_ID", f"j_{hashlib.sha256(job.name.encode()).hexdigest()}",
                "--JOB_RUN_ID", run.job_run_id, "--job-bookmark-option", "job-bookmark-disable",
                "--TempDir", f"s3://aws-glue-assets-{job.account_id}-{job.region}/temporary/"]
        for key, value in run.arguments.items():
            argv += [key if key.startswith("--") else f"--{key}", value]
        argv += ["--JOB_NAME", job.name]
        invocation = TaskInvocation(
            run_id=next(self._numbers), task_key=job.name, attempt_number=run.attempt, kind="python_file",
            source_path=BOOTSTRAP, argv=argv, sys_path=[str(RUNTIME_DIR)], timeout_seconds=timeout_s,
        )
        if stop.is_set():
            run.move("STOPPED")
            return
        handle = self._cluster().get_default().run(invocation)
        with self._lock:
            self._handles[run.job_run_id] = handle
        if stop.is_set():
            handle.cancel()
        result = handle.wait()
        assert result is not None
        self._finish(run, result)

    def _finish(self, run: GlueJobRun, result: TaskResult) -> None:
        run.logs = result.logs
        if result.outcome == "SUCCESS":
            run.move("SUCCEEDED")
        elif result.outcome == "TIMEDOUT":
            run.move("TIMEOUT", _timeout_message(run))
        elif result.outcome == "CANCELED":
            run.move("STOPPED")
        else:
            run.logs += "\n" + (result.error_trace or "")
            run.move("FAILED", result.error or f"the run ended {result.outcome}")

    def _fetch_script(self, run: GlueJobRun, job: GlueJob) -> Path | None:
        location = job.script_location
        if not location.startswith("s3://"):
            run.move("FAILED", f"ScriptLocation must be an s3:// URI, got {location!r}")
            return None
        bucket, _, key = location[len("s3://"):].partition("/")
        target = self.state_dir / "scripts" / run.job_run_id / (key.rsplit("/", 1)[-1] or "script.py")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            body = self._client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            run.move("FAILED", f"Failed to download script {location}: {_reason(exc)}")
            return None
        target.write_bytes(body)
        return target

    def _write_logs(self, run: GlueJobRun, job: GlueJob) -> None:
        """The driver's output to `/aws-glue/jobs/output` (and failures to `.../error`), stream = run id."""
        try:
            logs = self._client("logs", region=job.region)
            for group, text in ((LOG_GROUP_OUTPUT, run.logs),
                                (LOG_GROUP_ERROR, run.error_message if run.status != "SUCCEEDED" else None)):
                if not text:
                    continue
                try:
                    logs.create_log_group(logGroupName=group)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass
                try:
                    logs.create_log_stream(logGroupName=group, logStreamName=run.job_run_id)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass
                now = clock.now_ms()
                events = [{"timestamp": now, "message": line} for line in text.splitlines() if line.strip()]
                if events:
                    logs.put_log_events(logGroupName=group, logStreamName=run.job_run_id, logEvents=events[-5000:])
        except Exception:
            pass

    # --- plumbing -------------------------------------------------------------------------------------
    def _client(self, service: str, region: str = "us-east-1") -> Any:
        env = self._base_env
        return boto_clients.client(service, endpoint_url=env.get("AWS_ENDPOINT_URL"), region_name=region,
                                   aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
                                   aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"))

    def _cluster(self) -> _Clusters:
        with self._lock:
            if self._closed:
                raise RuntimeError("the Glue service has shut down")
            if self._clusters is None:
                self._clusters = ClusterManager(self.state_dir / "compute", self._base_env,
                                                default_spec={"cluster_name": "stepbricks-glue"})
            return _Clusters(self._clusters)

    def shutdown(self) -> None:
        """Stop every active run and the cluster's worker process; idempotent."""
        with self._lock:
            self._closed = True
            handles = list(self._handles.values())
            requests = list(self._stop_requests.values())
            clusters, self._clusters = self._clusters, None
        for request in requests:
            request.set()
        for handle in handles:
            handle.cancel()
        if clusters is not None:
            clusters.shutdown()
        if self._owned_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)


@dataclass(frozen=True)
class _Clusters:
    manager: ClusterManager

    def get_default(self) -> Any:
        return self.manager.get(self.manager.default_cluster_id())


def _timeout_message(run: GlueJobRun) -> str:
    # The exact wording AWS uses is not in botocore's model; this one names the limit that was hit.
    return f"Job run timed out after {run.timeout_minutes} minutes (Timeout)"


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return f"{type(exc).__name__}: {exc}"
