"""The backend protocol and what it hands the cluster: a `SessionPlan` for the worker's SparkSession."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Protocol

# Cluster spec fields that size a Databricks cluster; each backend says what it does with them.
SIZE_FIELDS = ("num_workers", "autoscale")
# Our own keys in spark_conf: read by the simulator, never handed to Spark.
STEPBRICKS_PREFIX = "spark.stepbricks."


@dataclass(frozen=True)
class SessionPlan:
    """How the worker builds its SparkSession, and what the cluster spec asked that it cannot give."""

    spark_conf: dict[str, str]
    # Variables for the worker process; None removes one the cluster would otherwise set.
    env: dict[str, str | None] = field(default_factory=dict)
    remote: str | None = None  # a Spark Connect URL: the worker is a client of that server
    # Where `s3://` data is staged for Spark to read (STEPBRICKS_STAGING_DIR); None: the cluster's temp dir.
    staging_dir: Path | None = None
    target_workers: int = 0  # executors the spec asked for (num_workers, or autoscale's min)
    unhonoured: list[str] = field(default_factory=list)


class ClusterBackend(Protocol):
    """One way of running a cluster's Spark work; chosen per cluster (`backend_for`)."""

    name: str  # local | standalone | connect
    url: str  # local[N], spark://host:port or sc://host:port
    shared_dir: Path | None  # a directory every node of the backend sees at the same path

    def plan(self, spec: dict[str, Any], conf: dict[str, str], *, cluster_id: str) -> SessionPlan:
        """The session of a cluster with this `spec`, given the conf the local cluster would use."""


def requested_workers(spec: dict[str, Any]) -> tuple[int, int | None]:
    """(min, max) executors the spec asks for: num_workers N gives (N, None), autoscale (min, max)."""
    autoscale = spec.get("autoscale") or {}
    if autoscale:
        low = int(autoscale.get("min_workers", 0))
        return low, int(autoscale.get("max_workers", low))
    return int(spec.get("num_workers") or 0), None


def user_conf(spec: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (spec.get("spark_conf") or {}).items()}


def without_ours(conf: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in conf.items() if not k.startswith(STEPBRICKS_PREFIX)}


def is_loopback(host: str) -> bool:
    """True for a host on this machine's loopback, where executors see the simulator's files."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def staging_dir(backend: ClusterBackend, cluster_id: str, host: str) -> tuple[Path | None, list[str]]:
    """Where a remote backend's cluster stages data, and a note when no node but this one can read it."""
    if backend.shared_dir is not None:
        return backend.shared_dir / cluster_id, []
    if is_loopback(host):
        return None, []  # executors run on this machine: the cluster's own temp dir is readable
    return None, [
        f"no shared directory: data staged from s3:// stays on this machine, which executors on {host} cannot "
        "read; set spark.stepbricks.sharedDir (or STEPBRICKS_SPARK_SHARED_DIR) to a directory mounted at the "
        "same path on every node, or give the cluster s3a access (docs/scaling.md)"
    ]
