"""Messages between a cluster (manager side) and its worker process, one per event.

They travel pickled over a `multiprocessing.connection` on 127.0.0.1 authenticated with a random
authkey; both ends import this module, so plain dataclasses are the whole wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sim.compute.contract import TaskInvocation, TaskResult

StopReason = Literal["CANCELED", "TIMEDOUT"]


# A poolable worker's Python UDF workers: PySpark's, applying each lease's variables from a file
# (sim/compute/dbruntime_shim/pyspark_stepbricks_worker.py; `spark.python.worker.module`).
UDF_WORKER_MODULE = "pyspark_stepbricks_worker"
EXECUTOR_ENV_FILE = "STEPBRICKS_EXECUTOR_ENV"


@dataclass(frozen=True)
class Binding:
    """What ties a worker to one cluster of one simulator; set at start and anew at every pooled lease."""

    cluster_id: str
    dbfs_root: str
    cwd: str  # the cluster's directory
    # The simulator's variables (endpoints, tokens, state paths, TMPDIR): the worker's environment is its
    # launch environment plus these. Kept out of the launch environment, so its JVM never holds them.
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkerConfig:
    """What the worker needs before it can build its SparkSession (sent on stdin, never on argv)."""

    cluster_id: str
    spark_conf: dict[str, str]
    dbfs_root: str
    warm_up: bool = True
    # All-purpose clusters also run sim.compute.warmup while PENDING: they are started ahead of
    # their first task (in the background at `up`) and live long; a job cluster starts lean, as on Databricks.
    warm_engine: bool = False
    # Import the ML runtime's libraries (MLflow, scikit-learn) beside the first task: for a cluster whose
    # jobs will train soon (a flight's); `warm_engine` imports them while the JVM starts.
    warm_libraries: bool = False
    # Spark Connect: the server's URL; the worker is then its client and builds no JVM of its own.
    remote: str | None = None
    # Where warm-up and staged files go when executors are elsewhere (the backend's shared directory).
    scratch_dir: str | None = None
    # A poolable worker (local backend): bound after its session starts, so it can be released and leased.
    binding: dict[str, Any] | None = None
    warehouse_dir: str | None = None  # the worker's own warehouse, emptied at every release
    # Idle workers that outlive their manager (sim.compute.shared_pool): where to advertise, under which key,
    # how many adverts the directory holds and how long one waits unclaimed.
    pool_dir: str | None = None
    pool_key: str | None = None
    pool_limit: int = 1
    pool_idle_seconds: float = 300.0
    pool_status: str = ""  # the file its keeper writes its exit status to (sim.compute.keeper)


# manager → worker
@dataclass(frozen=True)
class StartTask:
    attempt_id: int
    invocation: TaskInvocation


@dataclass(frozen=True)
class CancelTask:
    attempt_id: int
    reason: StopReason


@dataclass(frozen=True)
class Shutdown:
    pass


@dataclass(frozen=True)
class Release:
    """The cluster terminates: reset the session and wait idle for a lease (answered by `Released`)."""


@dataclass(frozen=True)
class Lease:
    """A new cluster takes this idle worker (answered by `WorkerReady` or `WorkerFailed`)."""

    binding: Binding


# worker → manager
@dataclass(frozen=True)
class WorkerReady:
    pid: int
    spark_version: str
    session_started_ms: int
    session_startup_ms: int
    master: str = ""  # where the session's work runs: local[N], spark://…, sc://…
    executors: int = 0  # executors registered when the session was ready (0: the driver runs tasks itself)
    notes: tuple[str, ...] = ()  # what the worker found it could not honour (e.g. static conf on Connect)
    pooled: bool = False  # a warm worker leased from the pool: the session was reset, not started


@dataclass(frozen=True)
class WorkerFailed:
    error: str
    error_trace: str = ""


@dataclass(frozen=True)
class Released:
    ok: bool  # False: something of the last cluster still runs (a task's thread): kill, never pool
    reason: str = ""


@dataclass(frozen=True)
class TaskStarted:
    attempt_id: int
    started_ms: int


@dataclass(frozen=True)
class TaskEnded:
    attempt_id: int
    result: TaskResult = field(default_factory=lambda: TaskResult(outcome="INTERNAL_ERROR"))
