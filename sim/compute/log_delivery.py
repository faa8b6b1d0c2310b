"""`cluster_log_conf`: a cluster's driver log delivered to DBFS as Databricks does, on every backend.

Databricks delivers a cluster's logs to `<destination>/<cluster_id>/driver/` (`stdout`, `stderr`,
`log4j-active.log`), periodically and when the cluster terminates (databricks-sdk `ClusterLogConf`:
"the destination of driver logs is `$destination/$clusterId/driver`"). Here the driver side is always the
cluster's worker process, whose stdout and stderr — the Spark driver's log4j output included — are one
file, `driver.log`: it is delivered as `driver/stdout` whenever the driver stops (termination, a lost
driver, a failed start). Destinations other than `dbfs:/` (S3, volumes) are reported at cluster start.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def _dbfs_destination(spec: dict[str, Any]) -> str | None:
    conf = spec.get("cluster_log_conf") or {}
    return (conf.get("dbfs") or {}).get("destination")


def unhonoured(spec: dict[str, Any]) -> list[str]:
    """A log destination this simulator does not deliver to, said at start rather than ignored."""
    conf = spec.get("cluster_log_conf") or {}
    return [f"cluster_log_conf {kind}: driver logs are delivered to dbfs:/ destinations only"
            for kind in conf if kind != "dbfs"]


def deliver(spec: dict[str, Any], cluster_id: str, log_path: Path, dbfs_root: Path) -> Path | None:
    """Copy the driver log to `<dbfs destination>/<cluster_id>/driver/stdout`; the path, or None."""
    destination = _dbfs_destination(spec)
    if not destination or not log_path.exists():
        return None
    relative = destination.removeprefix("dbfs:").strip("/")
    target = dbfs_root / relative / cluster_id / "driver" / "stdout"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(log_path, target)
    return target
