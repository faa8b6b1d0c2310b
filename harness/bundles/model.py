"""Typed values passed between the bundle's reader, validator and deployer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Mode = Literal["development", "production"] | None


@dataclass(frozen=True)
class LocalFile:
    """A path in a job spec that names a file of the bundle (relative to its declaring YAML file).

    Deploy uploads it under `workspace.file_path` and replaces it by the workspace path, as the
    Databricks CLI's `TranslatePaths` mutator does; `notebook` files lose their extension there.
    """

    path: Path  # absolute, on this machine
    relative: str  # relative to the bundle root, POSIX
    notebook: bool
    declared_in: Path
    key: str  # e.g. resources.jobs.etl.tasks[0].notebook_task.notebook_path

    def remote(self, file_path: str) -> str:
        rel = self.relative[: -len(self.path.suffix)] if self.notebook and self.path.suffix else self.relative
        return f"{file_path.rstrip('/')}/{rel}"


@dataclass(frozen=True)
class JobResource:
    """`resources.jobs.<key>`: JobSettings, with variables already substituted."""

    key: str
    settings: dict[str, Any]
    declared_in: Path

    def job_refs(self) -> set[str]:
        """The job keys whose ids this job's settings refer to (`${resources.jobs.<key>.id}`)."""
        from harness.bundles.interpolate import job_id_references

        return job_id_references(self.settings)


@dataclass(frozen=True)
class Target:
    name: str
    mode: Mode
    default: bool
    host: str | None
    declared_in: Path


@dataclass(frozen=True)
class Bundle:
    """One bundle, merged for one target, every `${var.*}`/`${bundle.*}`/`${workspace.*}` resolved.

    `${resources.jobs.<key>.id}` stays in the settings until deploy knows the ids.
    """

    name: str
    root: Path
    target: Target
    variables: dict[str, Any]
    jobs: dict[str, JobResource]
    user: str
    root_path: str
    files: list[Path] = field(default_factory=list)  # every YAML file read, databricks.yml first

    @property
    def file_path(self) -> str:
        return f"{self.root_path}/files"

    @property
    def state_path(self) -> str:
        return f"{self.root_path}/state"

    def local_files(self) -> list[LocalFile]:
        from harness.bundles.interpolate import walk

        found: dict[Path, LocalFile] = {}
        for job in self.jobs.values():
            for value in walk(job.settings):
                if isinstance(value, LocalFile):
                    found.setdefault(value.path, value)
        return list(found.values())
