"""`standalone`: an existing Spark standalone master (`spark://host:port`) runs the executors.

The cluster's worker process is the driver, in client mode. The spec maps onto what a standalone
application can ask for: `num_workers` N becomes N one-core executors (`spark.cores.max`), `autoscale`
becomes dynamic allocation with shuffle tracking (no external shuffle service needed),
`spark_env_vars` reach the executors as `spark.executorEnv.*`. Whether the master could give the
executors asked for shows in the RUNNING event (`current_num_workers` against `target_num_workers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.compute.backends.base import SessionPlan, is_loopback, requested_workers, staging_dir, without_ours

# Loopback defaults of the local conf that would break executors on another host.
_LOOPBACK_ONLY = ("spark.driver.host", "spark.driver.bindAddress")


@dataclass(frozen=True)
class StandaloneBackend:
    url: str
    shared_dir: Path | None = None
    name: str = "standalone"

    @property
    def host(self) -> str:
        return self.url.removeprefix("spark://").split(",")[0].rsplit(":", 1)[0]

    def plan(self, spec: dict[str, Any], conf: dict[str, str], *, cluster_id: str) -> SessionPlan:
        user = {str(k) for k in (spec.get("spark_conf") or {})}
        conf = without_ours(conf)
        conf["spark.master"] = self.url
        # Executors keep their own worker's scratch dirs; the driver's stays in java.io.tmpdir (the cluster's).
        conf.pop("spark.local.dir", None)
        env: dict[str, str | None] = {}
        if not is_loopback(self.host):
            for key in _LOOPBACK_ONLY:
                if key not in user:
                    conf.pop(key, None)
            env["SPARK_LOCAL_IP"] = None  # the driver must be reachable from the executors' hosts
        low, high = requested_workers(spec)
        conf.setdefault("spark.executor.cores", "1")
        cores = int(conf["spark.executor.cores"])
        if high is not None:
            conf.setdefault("spark.dynamicAllocation.enabled", "true")
            conf.setdefault("spark.dynamicAllocation.shuffleTracking.enabled", "true")
            conf.setdefault("spark.dynamicAllocation.minExecutors", str(low))
            conf.setdefault("spark.dynamicAllocation.maxExecutors", str(high))
            conf.setdefault("spark.cores.max", str(max(high, 1) * cores))
        else:
            conf.setdefault("spark.cores.max", str(max(low, 1) * cores))
        unhonoured = []
        if high is None and low == 0:
            unhonoured.append("num_workers=0 (single node): a standalone application needs an executor; "
                              "it runs on one one-core executor of the master's workers")
        for key, value in (spec.get("spark_env_vars") or {}).items():
            conf.setdefault(f"spark.executorEnv.{key}", str(value))
        staging, notes = staging_dir(self, cluster_id, self.host)
        if staging is not None:
            env["STEPBRICKS_STAGING_DIR"] = str(staging)
        return SessionPlan(spark_conf=conf, env=env, staging_dir=staging, target_workers=max(low, 1),
                           unhonoured=unhonoured + notes)
