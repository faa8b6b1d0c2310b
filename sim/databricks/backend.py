"""The workspace's state and services, wired together once per server (what every route reaches)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from sim import boto_clients
from sim import context as sim_context
from sim.compute.backends import ClusterBackend
from sim.compute.contract import ClusterPool
from sim.databricks.errors import DatabricksError
from sim.databricks.faults.models import FaultList
from sim.databricks.jobs.models import JobsBackend
from sim.databricks.notifications.destinations import Destinations
from sim.databricks.notifications.notifier import Notifier
from sim.databricks.runs.creation import RunFactory
from sim.databricks.runs.registry import RunRegistry
from sim.databricks.runs.scheduler import FailureStyle, Scheduler
from sim.databricks.runs.service import RunsService
from sim.databricks.secrets.models import SecretsBackend
from sim.databricks.store import Store
from sim.databricks.triggers import engine as triggers
from sim.databricks.triggers.engine import TriggerEngine
from sim.databricks.triggers.file_arrival import S3Changes
from sim.databricks.workspace.models import WorkspaceBackend

WORKSPACE_ID = "1000000000000001"


class ComputeUnavailable(DatabricksError):
    status, error_code = 503, "TEMPORARILY_UNAVAILABLE"


class LazyComputePool:
    """The cluster pool, created on first use so the API serves even before any task runs."""

    def __init__(self, state_dir: Path, base_env: dict[str, str], spark: ClusterBackend | None = None) -> None:
        self._state_dir = state_dir
        self._base_env = base_env
        self._spark = spark
        self._pool: ClusterPool | None = None
        self._lock = threading.Lock()

    def __call__(self) -> ClusterPool:
        with self._lock:
            if self._pool is None:
                try:
                    from sim.compute.manager import ClusterManager
                except ImportError as e:
                    raise ComputeUnavailable(f"Compute is not available in this workspace: {e}") from None
                self._pool = ClusterManager(self._state_dir / "clusters", dict(self._base_env), backend=self._spark)
            return self._pool

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None


@dataclass
class Backend:
    state_dir: Path
    host: str
    token: str
    base_env: dict[str, str]
    store: Store
    jobs: JobsBackend
    runs: RunsService
    secrets: SecretsBackend
    workspace: WorkspaceBackend
    faults: FaultList
    scheduler: Scheduler
    pool: LazyComputePool
    failure_style: FailureStyle = "workspace"
    triggers: TriggerEngine = field(init=False)
    destinations: Destinations = field(init=False)
    notifier: Notifier = field(init=False)
    _s3: Any = field(default=None, init=False, repr=False)
    _s3_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def open(cls, *, state_dir: Path, host: str, token: str, cluster_env: dict[str, str],
             mounts: dict[str, Path], failure_style: FailureStyle = "workspace",
             spark: ClusterBackend | None = None, s3_changes: S3Changes | None = None) -> Backend:
        store = Store(state_dir / "workspace.db")
        jobs = JobsBackend(store)
        base_env = {**cluster_env, "DATABRICKS_HOST": host, "DATABRICKS_TOKEN": token}
        pool = LazyComputePool(state_dir, base_env, spark)
        workspace = WorkspaceBackend(store, state_dir=state_dir, mounts=mounts)
        faults = FaultList.for_context(sim_context.current())
        registry = RunRegistry(store)
        factory = RunFactory(registry, jobs)
        scheduler = Scheduler(
            registry, factory=factory, workspace=workspace, faults=faults, compute=pool,
            job_settings=lambda job_id: jobs.get(job_id).settings if job_id in jobs._jobs else None,
            failure_style=failure_style,
        )
        b = cls(
            state_dir=state_dir, host=host, token=token, base_env=base_env, store=store, jobs=jobs,
            runs=RunsService(registry, jobs, factory, scheduler, run_page_base=f"{host}/?o={WORKSPACE_ID}"),
            secrets=SecretsBackend(store), workspace=workspace, faults=faults, scheduler=scheduler, pool=pool,
            failure_style=failure_style,
        )
        b.triggers = triggers.install(jobs, b.runs, s3_client=b.s3_client, s3_changes=s3_changes)
        b.destinations = Destinations(store)
        b.notifier = Notifier(job_settings=lambda job_id: jobs.get(job_id).settings if job_id in jobs._jobs else None,
                              destinations=b.destinations, workspace_id=WORKSPACE_ID, state_dir=state_dir)
        b.runs.listeners.append(b.notifier.run_changed)
        return b

    def s3_client(self) -> Any:
        """A boto3 S3 client on the simulated AWS the clusters use (file-arrival triggers read it)."""
        with self._s3_lock:  # one per workspace: a client per trigger check cost 60 ms of CPU each
            if self._s3 is None:
                env = self.base_env
                self._s3 = boto_clients.client("s3", endpoint_url=env.get("AWS_ENDPOINT_URL"),
                                               region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
                                               aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
                                               aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"))
            return self._s3

    def compute(self) -> ClusterPool:
        """The cluster pool, created on first use so the API serves even before any task runs."""
        return self.pool()

    def close(self) -> None:
        self.triggers.stop()
        self.notifier.stop()
        self.scheduler.shutdown()
        self.pool.shutdown()
        self.store.close()


def backend(request: Request) -> Backend:
    return request.app.state.backend
