"""`Job`: init/commit. Bookmarks are not simulated (every run reads everything, as with
`job-bookmark-disable`, Glue's default)."""

from __future__ import annotations

from typing import Any

from awsglue.errors import refuse

__all__ = ["Job"]


class Job:
    def __init__(self, glue_context: Any) -> None:
        self._context = glue_context
        self.name: str | None = None
        self.committed = False

    def init(self, job_name: str, args: dict[str, Any] | None = None) -> None:
        self.name = job_name
        self.args = dict(args or {})

    def commit(self) -> None:
        self.committed = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise refuse("Job", name)
