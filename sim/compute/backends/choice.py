"""Which backend runs a cluster: the workspace's URL, unless the cluster's `spark_conf` names another."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim.compute.backends.base import ClusterBackend, user_conf
from sim.compute.backends.connect import ConnectBackend
from sim.compute.backends.local import LocalBackend
from sim.compute.backends.standalone import StandaloneBackend

SPARK_ENV = "STEPBRICKS_SPARK"  # the workspace-level URL (`stepbricks up --spark URL`)
SHARED_DIR_ENV = "STEPBRICKS_SPARK_SHARED_DIR"
BACKEND_CONF = "spark.stepbricks.backend"  # per cluster: `local` or a URL
SHARED_DIR_CONF = "spark.stepbricks.sharedDir"
# Spark's own local master forms, spaces included: Databricks single-node clusters say `local[*, 4]`.
_LOCAL = re.compile(r"^local(\[\s*(\*|\d+)\s*(,\s*\d+\s*)?\])?$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d+$")


class BackendError(ValueError):
    """A Spark URL no backend understands; the message says what is accepted."""


def parse(url: str | None, *, shared_dir: str | Path | None = None) -> ClusterBackend:
    """`local`/`local[N]` (or empty), `spark://host:port` or `sc://host:port`."""
    url = (url or "local").strip()
    shared = Path(shared_dir) if shared_dir else None
    if _LOCAL.match(url):
        return LocalBackend(url="local[1]" if url == "local" else url, shared_dir=shared)
    if url.startswith("spark://") and all(_HOST_PORT.match(part) for part in url[8:].split(",")):
        return StandaloneBackend(url=url, shared_dir=shared)
    if url.startswith("sc://") and _HOST_PORT.match(url[5:].split("/")[0].split(";")[0]):
        return ConnectBackend(url=url, shared_dir=shared)
    raise BackendError(f"unknown Spark URL {url!r}: expected local, local[N], spark://host:port (a standalone "
                       "master) or sc://host:port (a Spark Connect server)")


def backend_for(spec: dict[str, Any], workspace: ClusterBackend) -> ClusterBackend:
    """The backend of a cluster with `spec`: its spark_conf override, else the workspace's."""
    conf = user_conf(spec)
    shared = conf.get(SHARED_DIR_CONF) or workspace.shared_dir
    if BACKEND_CONF in conf:
        return parse(conf[BACKEND_CONF], shared_dir=shared)
    if conf.get("spark.remote"):
        return parse(conf["spark.remote"], shared_dir=shared)
    master = conf.get("spark.master", "")
    if master.startswith("spark://") or _LOCAL.match(master):
        return parse(master, shared_dir=shared)
    if SHARED_DIR_CONF in conf:
        return parse(workspace.url, shared_dir=shared)
    return workspace
