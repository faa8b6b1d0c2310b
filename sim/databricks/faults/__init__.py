"""Fault injection: faults are data in an ordered list, first match wins (see `models.py`)."""

from sim.databricks.faults.models import FaultList, HttpFault, TaskFault

__all__ = ["FaultList", "HttpFault", "TaskFault"]
