"""`ClusterManager`: the workspace's compute — a pool of `LocalCluster`s behind the `ClusterPool` seam.

Each cluster runs on the workspace's backend (`sim.compute.backends`: local, standalone or connect)
unless its spark_conf names another.

One all-purpose cluster always exists (started lazily, on first use); `create` adds long-lived ones
(clusters/create), `ephemeral` makes job clusters for one run. Cluster ids look like Databricks'
(`MMDD-HHMMSS-xxxxxxxx`), made from the simulator clock and a counter, never from randomness.

A cluster's worker comes from the process's pool of warm workers when one fits (`sim.compute.pool`), as a
Databricks cluster attached to an instance pool starts on an idle instance: PENDING → RUNNING in
milliseconds instead of a JVM's start.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

from sim import clock
from sim.compute.backends import ClusterBackend, backend_for
from sim.compute.backends.local import LocalBackend
from sim.compute.cluster import LocalCluster
from sim.compute.pool import WarmPool, shared

DEFAULT_CLUSTER_NAME = "stepbricks-default"


class ClusterManager:
    """Implements `sim.compute.contract.ClusterPool`; thread-safe."""

    def __init__(
        self,
        state_dir: Path,
        base_env: dict[str, str],
        *,
        default_spec: dict[str, Any] | None = None,
        cancel_grace_seconds: float = 10.0,
        backend: ClusterBackend | None = None,
        worker_pool: WarmPool | None = None,
    ) -> None:
        self._state_dir = Path(state_dir)
        # Warm workers of this process's earlier clusters (`sim.compute.pool`): local-backend clusters lease
        # one when their launch is compatible, and give theirs back when they terminate.
        self._worker_pool = worker_pool if worker_pool is not None else shared()
        self.backend: ClusterBackend = backend or LocalBackend()  # the workspace's; a spec may name another
        self._base_env = dict(base_env)
        self._grace = cancel_grace_seconds
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._clusters: dict[str, LocalCluster] = {}
        self._default = self._new({"cluster_name": DEFAULT_CLUSTER_NAME, **(default_spec or {})}, ephemeral=False)

    def _new(self, spec: dict[str, Any], *, ephemeral: bool) -> LocalCluster:
        """Raises `sim.compute.backends.BackendError` when the spec's spark_conf names no known backend."""
        backend = backend_for(spec, self.backend)
        with self._lock:
            cluster_id = f"{clock.get().utcnow():%m%d-%H%M%S}-sb{next(self._numbers):06d}"
            cluster = LocalCluster(
                cluster_id,
                spec,
                state_dir=self._state_dir,
                base_env=self._base_env,
                ephemeral=ephemeral,
                cancel_grace_seconds=self._grace,
                backend=backend,
                worker_pool=self._worker_pool,
            )
            self._clusters[cluster_id] = cluster
        return cluster

    def default_cluster_id(self) -> str:
        return self._default.cluster_id

    def warm_default(self, *, engine: bool, standby: bool = False, libraries: bool = False) -> None:
        self._default.warm_engine = engine
        self._default.warm_libraries = libraries
        self._default.standby = standby or self._default.standby
        self.get(self._default.cluster_id)

    def get(self, cluster_id: str) -> LocalCluster:
        """The cluster, starting it if it is terminated (its run() would start it anyway)."""
        with self._lock:
            cluster = self._clusters[cluster_id]
        if cluster.state in ("TERMINATED", "RESTARTING"):
            cluster.start()
        return cluster

    def create(self, spec: dict[str, Any]) -> LocalCluster:
        cluster = self._new(spec, ephemeral=False)
        cluster.start()
        return cluster

    def ephemeral(self, spec: dict[str, Any]) -> LocalCluster:
        cluster = self._new(spec, ephemeral=True)
        cluster.start()
        return cluster

    def list(self) -> list[LocalCluster]:
        with self._lock:
            return list(self._clusters.values())

    def shutdown(self) -> None:
        for cluster in self.list():
            cluster.terminate()

    def __enter__(self) -> ClusterManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
