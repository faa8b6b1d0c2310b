"""`local`: the cluster's Spark runs inside its worker process (`local[N]`), today's default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.compute.backends.base import SessionPlan, requested_workers, without_ours


@dataclass(frozen=True)
class LocalBackend:
    url: str = "local[1]"
    shared_dir: Path | None = None
    name: str = "local"

    def plan(self, spec: dict[str, Any], conf: dict[str, str], *, cluster_id: str) -> SessionPlan:
        conf = without_ours(conf)
        conf["spark.master"] = self.url  # a spark.master of the spec chose this backend and its url
        low, high = requested_workers(spec)
        unhonoured = []
        if high is not None:
            unhonoured.append(f"autoscale {low}-{high} workers: the local backend runs the whole cluster in one "
                              f"{conf['spark.master']} process")
        elif low:
            unhonoured.append(f"num_workers={low}: the local backend runs the whole cluster in one "
                              f"{conf['spark.master']} process")
        # spark_env_vars are the worker's environment (set by the cluster): honoured as they are.
        return SessionPlan(spark_conf=conf, target_workers=low, unhonoured=unhonoured)
