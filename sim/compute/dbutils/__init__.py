"""The `dbutils` object of a stepbricks cluster: one per worker process, per-attempt state underneath.

Exposed to notebooks as the `dbutils` global and to any code on the cluster through
`from databricks.sdk.runtime import dbutils` (see `sim/compute/dbruntime_shim`).
"""

from __future__ import annotations

from pathlib import Path

from sim.compute.dbutils.errors import (
    IllegalArgumentException,
    InputWidgetNotDefined,
    NotebookExit,
    SecretsUnavailable,
)
from sim.compute.dbutils.fs import Fs
from sim.compute.dbutils.jobs import Jobs
from sim.compute.dbutils.notebook import Notebook
from sim.compute.dbutils.secrets import Secrets
from sim.compute.dbutils.widgets import Widgets

__all__ = [
    "DBUtils",
    "IllegalArgumentException",
    "InputWidgetNotDefined",
    "NotebookExit",
    "SecretsUnavailable",
]


class DBUtils:
    def __init__(self, dbfs_root: Path) -> None:
        self.widgets = Widgets()
        self.notebook = Notebook()
        self.secrets = Secrets()
        self.fs = Fs(dbfs_root)
        self.jobs = Jobs()

    def __repr__(self) -> str:
        return "<stepbricks dbutils: widgets, notebook, secrets, fs, jobs>"
