"""`dbutils.notebook`: `exit(value)` stops the notebook and makes `value` the run's notebook result."""

from __future__ import annotations

from sim.compute.dbutils.errors import NotebookExit


class Notebook:
    def exit(self, value: object) -> None:
        raise NotebookExit("" if value is None else str(value))

    def run(self, path: str, timeout_seconds: int = 0, arguments: dict | None = None) -> str:
        raise NotImplementedError(
            f"dbutils.notebook.run({path!r}) is not supported on a stepbricks cluster: make it a task of the job"
        )
