"""The workspace's state and services, wired together once per server (what every route reaches)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from sim.compute.contract import ClusterPool
from sim.databricks.errors import DatabricksError
from sim.databricks.faults.models import FaultList
from sim.databricks.jobs.models import JobsBackend
from sim.databricks.notifications.destinations import Destinations
from sim.databricks.notifications.notifier import Notifier
from sim.databricks.runs.backend import RunsBackend
from sim.databricks.runs.scheduler import FailureStyle, Scheduler
from sim.databricks.secrets.models import SecretsBackend
from sim.databricks.store import Store
from sim.databricks.triggers import engine as triggers
from sim.databricks.triggers.engine import TriggerEngine
from sim.databricks.workspace.models import WorkspaceBackend

WORKSPACE_ID = "1000000000000001"


class ComputeUnavailable(DatabricksError):
    status, error_code = 503, "TEMPORARILY_UNAVAILABLE"


@dataclass
class Backend:
    state_dir: Path
    host: str
    token: str
    base_env: dict[str, str]
    store: Store
    jobs: JobsBackend
    runs: RunsBackend
    secrets: SecretsBackend
    workspace: WorkspaceBackend
    faults: FaultList
    scheduler: Scheduler = field(init=False)
    triggers: TriggerEngine = field(init=False)
    destinations: Destinations = field(init=False)
    notifier: Notifier = field(init=False)
    failure_style: FailureStyle = "workspace"
    _pool: ClusterPool | None = None
    _pool_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, *, state_dir: Path, host: str, token: str, cluster_env: dict[str, str],
             mounts: dict[str, Path], failure_style: FailureStyle = "workspace") -> Backend:
        store = Store(state_dir / "workspace.db")
        jobs = JobsBackend(store)
        b = cls(
            state_dir=state_dir, host=host, token=token,
            base_env={**cluster_env, "DATABRICKS_HOST": host, "DATABRICKS_TOKEN": token},
            store=store, jobs=jobs, runs=RunsBackend(store, jobs, run_page_base=f"{host}/?o={WORKSPACE_ID}"),
            secrets=SecretsBackend(store), workspace=WorkspaceBackend(store, state_dir=state_dir, mounts=mounts),
            faults=FaultList(), failure_style=failure_style,
        )
        b.scheduler = Scheduler(
            b.runs, workspace=b.workspace, faults=b.faults, compute=b.compute,
            job_settings=lambda job_id: jobs.get(job_id).settings if job_id in jobs._jobs else None,
            failure_style=failure_style,
        )
        b.triggers = triggers.install(jobs, b.runs, s3_client=b.s3_client)
        b.destinations = Destinations(store)
        b.notifier = Notifier(job_settings=lambda job_id: jobs.get(job_id).settings if job_id in jobs._jobs else None,
                              destinations=b.destinations, workspace_id=WORKSPACE_ID, state_dir=state_dir)
        b.runs.listeners.append(b.notifier.run_changed)
        return b

    def s3_client(self) -> Any:
        """A boto3 S3 client on the simulated AWS the clusters use (file-arrival triggers read it)."""
        import boto3

        env = self.base_env
        return boto3.client("s3", endpoint_url=env.get("AWS_ENDPOINT_URL"),
                            region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
                            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "testing"),
                            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "testing"))

    def compute(self) -> ClusterPool:
        """The cluster pool, created on first use so the API serves even before any task runs."""
        with self._pool_lock:
            if self._pool is None:
                try:
                    from sim.compute.manager import ClusterManager
                except ImportError as e:
                    raise ComputeUnavailable(f"Compute is not available in this workspace: {e}") from None
                self._pool = ClusterManager(self.state_dir / "clusters", dict(self.base_env))
            return self._pool

    def close(self) -> None:
        self.triggers.stop()
        self.notifier.stop()
        self.scheduler.shutdown()
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
        self.store.close()


def backend(request: Request) -> Backend:
    return request.app.state.backend
