"""Clusters of the fake workspace: worker processes that hold a warm SparkSession and run tasks.

The API layer (`sim.databricks.runs`) only talks to this package through `contract.py`; the one
implementation is `ClusterManager(state_dir, base_env, backend=...)`. Where a cluster's Spark work runs
(local, a standalone master, a Spark Connect server) is its backend: `sim.compute.backends`.
"""

from sim.compute.contract import TaskInvocation, TaskResult
from sim.compute.manager import ClusterManager

__all__ = ["ClusterManager", "TaskInvocation", "TaskResult"]
