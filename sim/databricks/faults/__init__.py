"""The workspace's fault API: an adapter over the simulator's one fault plan (see `models.py`)."""

from sim.databricks.faults.models import FaultList, HttpFault, TaskFault

__all__ = ["FaultList", "HttpFault", "TaskFault"]
