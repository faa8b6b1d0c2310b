"""`connect`: an existing Spark Connect server (`sc://host:port`) runs every query.

The cluster's worker process is a thin client: the notebook, script or wheel runs there and its
DataFrame plans go to the server. A Connect session can only set runtime (SQL) configuration, has no
`SparkContext` (`sc`, RDDs), and the server's executors are the server's own: cluster sizing and the
executors' environment cannot be honoured and are reported. Configuration the server refuses to
change is found out by the worker once connected (`spark.conf.isModifiable`) and reported too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.compute.backends.base import SessionPlan, requested_workers, staging_dir, user_conf, without_ours

# Of the local cluster's defaults, the ones a Connect session may set (runtime SQL configuration).
_SESSION_DEFAULTS = ("spark.sql.shuffle.partitions", "spark.sql.session.timeZone")
_NOT_SETTABLE = ("spark.master", "spark.remote")


@dataclass(frozen=True)
class ConnectBackend:
    url: str
    shared_dir: Path | None = None
    name: str = "connect"

    @property
    def host(self) -> str:
        return self.url.removeprefix("sc://").split("/")[0].split(";")[0].rsplit(":", 1)[0]

    def plan(self, spec: dict[str, Any], conf: dict[str, str], *, cluster_id: str) -> SessionPlan:
        asked = without_ours(user_conf(spec))
        session_conf = {k: conf[k] for k in _SESSION_DEFAULTS if k in conf}
        session_conf.update({k: v for k, v in asked.items() if k not in _NOT_SETTABLE})
        unhonoured = [f"spark_conf {k}: a Spark Connect client cannot choose the server's {k}"
                      for k in _NOT_SETTABLE if k in asked and k != "spark.remote"]
        low, high = requested_workers(spec)
        if high is not None:
            unhonoured.append(f"autoscale {low}-{high} workers: the Spark Connect server's own cluster decides "
                              "its executors")
        elif low:
            unhonoured.append(f"num_workers={low}: the Spark Connect server's own cluster decides its executors")
        if spec.get("spark_env_vars"):
            unhonoured.append("spark_env_vars " + ", ".join(sorted(spec["spark_env_vars"])) + ": set in the "
                              "cluster's Python process only, not on the Spark Connect server's executors")
        unhonoured.append("no SparkContext on Spark Connect: `sc` and RDD APIs are unavailable to tasks "
                          "(as on Databricks shared-access and serverless compute)")
        env: dict[str, str | None] = {"SPARK_REMOTE": self.url, "SPARK_CONNECT_MODE_ENABLED": "1"}
        staging, notes = staging_dir(self, cluster_id, self.host)
        if staging is not None:
            env["STEPBRICKS_STAGING_DIR"] = str(staging)
        return SessionPlan(spark_conf=session_conf, env=env, remote=self.url, staging_dir=staging,
                           target_workers=low, unhonoured=unhonoured + notes)
