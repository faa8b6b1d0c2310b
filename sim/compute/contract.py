"""The seam between the fake workspace's run scheduler and its clusters.

The scheduler decides *what* runs *when* (life-cycle states, retries, dependencies, timeouts);
a cluster only runs one task attempt at a time per `TaskHandle` and reports how it ended. Keeping
the seam this narrow lets the scheduler be tested on real clusters without knowing about Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

TaskKind = Literal["notebook", "python_file", "python_wheel"]
Outcome = Literal["SUCCESS", "FAILED", "CANCELED", "TIMEDOUT", "INTERNAL_ERROR"]


@dataclass(frozen=True)
class TaskInvocation:
    """One attempt of one task, fully resolved by the scheduler (paths are local files)."""

    run_id: int  # the task run's id (what runs/get-output is called with)
    task_key: str
    attempt_number: int
    kind: TaskKind
    # notebook: the notebook's .py file; python_file: the script. None for wheels.
    source_path: Path | None = None
    # notebook: widget values (base_parameters merged with run-now parameters, run-now wins)
    widgets: dict[str, str] = field(default_factory=dict)
    # python_file / python_wheel: positional parameters (sys.argv[1:])
    argv: list[str] = field(default_factory=list)
    # python_wheel: named parameters become --key=value arguments
    named_parameters: dict[str, str] = field(default_factory=dict)
    package_name: str | None = None
    entry_point: str | None = None
    # Extra sys.path entries for this task (e.g. the mounted project root, like a Databricks Repo).
    sys_path: list[str] = field(default_factory=list)
    # Task-level environment overrides (spark_env_vars of the cluster spec are applied at cluster start).
    env: dict[str, str] = field(default_factory=dict)
    # 0 = no timeout. Enforced by the cluster: the attempt ends TIMEDOUT and its thread is stopped.
    timeout_seconds: float = 0
    # dbutils.jobs.taskValues.get: values set by upstream tasks of the same run, by task_key.
    task_values: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskResult:
    outcome: Outcome
    notebook_result: str | None = None  # dbutils.notebook.exit value
    error: str | None = None  # one-line message, e.g. "ZeroDivisionError: division by zero"
    error_trace: str | None = None  # the full traceback text
    logs: str = ""  # captured stdout + stderr of this attempt
    # Timing the cluster measured, for the bench and for "the warm session was reused" assertions.
    spark_session_reused: bool = False
    started_ms: int = 0
    ended_ms: int = 0
    # runs/get-output: `notebook_output.result` is the first 5 MB, `logs` the last 5 MB (databricks-sdk
    # service/jobs.py, NotebookOutput and RunOutput docstrings); these say whether that cut happened.
    notebook_result_truncated: bool = False
    logs_truncated: bool = False
    # dbutils.jobs.taskValues.set values of this attempt, for downstream tasks' TaskInvocation.task_values.
    task_values: dict[str, Any] = field(default_factory=dict)
    # The worker's SparkSession: when it was created and what that cost (paid once per worker process).
    spark_session_started_ms: int = 0
    spark_startup_ms: int = 0
    worker_pid: int = 0


class TaskHandle(Protocol):
    running_at_ms: int | None  # the simulator clock when the cluster began the code (None: it never did)

    def wait(self, timeout: float | None = None) -> TaskResult | None:
        """The result once the attempt ended, or None if `timeout` passed first."""

    def wait_started(self) -> bool:
        """Block until the cluster began the code (True) or the attempt ended without it (False)."""

    def cancel(self) -> None:
        """Stop the attempt for real (cancel its Spark jobs, stop its thread); wait() then gives CANCELED."""


class Cluster(Protocol):
    cluster_id: str

    def run(self, invocation: TaskInvocation) -> TaskHandle: ...

    @property
    def state(self) -> str:
        """Databricks cluster state: PENDING, RUNNING, RESTARTING, TERMINATING, TERMINATED, ERROR."""

    def terminate(self) -> None: ...


class ClusterPool(Protocol):
    """What the workspace asks of its compute: implemented by `sim.compute.manager.ClusterManager`.

    Constructed as `ClusterManager(state_dir: Path, base_env: dict[str, str])`; `base_env` is what every
    cluster process gets (AWS/MLflow endpoints, DATABRICKS_HOST/TOKEN for dbutils.secrets, STEPBRICKS_STORAGE_MODE).
    """

    def default_cluster_id(self) -> str:
        """The always-present all-purpose cluster (started lazily on first use)."""

    def warm_default(self, *, engine: bool, standby: bool = False, libraries: bool = False) -> None:
        """Start the default cluster now; `engine` also has it run `sim.compute.warmup` while PENDING,
        `standby` keeps a warm second worker for its restarts, and `libraries` has it import the ML runtime's
        libraries beside its first task."""

    def get(self, cluster_id: str) -> Cluster:
        """A long-lived cluster; raises KeyError if unknown. Starts it if terminated."""

    def create(self, spec: dict) -> Cluster:
        """A new long-lived all-purpose cluster (clusters/create)."""

    def ephemeral(self, spec: dict) -> Cluster:
        """A job cluster for one run (new_cluster / job_cluster_key); the caller terminates it."""

    def list(self) -> list[Cluster]: ...

    def shutdown(self) -> None:
        """Stop every worker process (server shutdown)."""
