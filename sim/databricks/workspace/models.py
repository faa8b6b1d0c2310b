"""The workspace file tree: notebooks, files and directories, persisted in SQLite.

Paths are absolute; `/Workspace/...` is the same object as `/...` (as on a real workspace). Notebook
tasks resolve their `notebook_path` here or through `mounts` (a workspace folder backed by a local
directory, like a Databricks Repo on the project's checkout) — see `resolve_source`.
"""

from __future__ import annotations

import base64
import os
import posixpath
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import clock
from sim.databricks.errors import (
    DatabricksError,
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from sim.databricks.store import Store

NOTEBOOK_HEADER = "# Databricks notebook source"
_EXTENSIONS = {"PYTHON": ".py", "SQL": ".sql", "SCALA": ".scala", "R": ".r"}
_LANGUAGE_BY_EXT = {v: k for k, v in _EXTENSIONS.items()}
_DEFAULT_DIRS = ("/", "/Users", "/Shared", "/Repos")


class DirectoryNotEmpty(DatabricksError):
    status, error_code = 400, "DIRECTORY_NOT_EMPTY"


def normalize(path: str) -> str:
    """`/Workspace/Shared/x/` → `/Shared/x`; raises for relative paths, as the API does."""
    if not path or not path.startswith("/"):
        raise InvalidParameterValue(f"Path ({path}) is not absolute. Paths must start with '/'.")
    path = posixpath.normpath(path)
    if path == "/Workspace" or path.startswith("/Workspace/"):
        path = path[len("/Workspace") :] or "/"
    return path


@dataclass(frozen=True)
class ResolvedSource:
    """Where a task's notebook or script lives on this machine, and what to put on its sys.path."""

    path: Path
    sys_path: list[str]


class WorkspaceBackend:
    def __init__(self, store: Store, *, state_dir: Path, mounts: dict[str, Path]) -> None:
        self._store = store
        self._lock = threading.RLock()
        self._files_dir = state_dir / "workspace-files"
        self._mounts = {normalize(k): Path(v) for k, v in mounts.items()}
        self._objects: dict[str, dict[str, Any]] = {o["path"]: o for o in store.all("workspace_object")}
        for path in _DEFAULT_DIRS:
            if path not in self._objects:
                self._put(path, "DIRECTORY", None)

    # --- API -------------------------------------------------------------------------------------
    def import_(
        self, path: str, content: bytes, *, format: str, language: str | None, overwrite: bool
    ) -> None:
        path = normalize(path)
        format = (format or "SOURCE").upper()
        text_head = content[:200].decode("utf-8", "replace")
        if format == "AUTO":
            stem, ext = posixpath.splitext(path)
            if text_head.startswith(NOTEBOOK_HEADER) and ext.lower() in _LANGUAGE_BY_EXT:
                path, language, object_type = stem, _LANGUAGE_BY_EXT[ext.lower()], "NOTEBOOK"
            else:
                object_type, language = "FILE", None
        elif format == "SOURCE":
            if not language:
                raise InvalidParameterValue(
                    "The language field is required when importing a notebook in SOURCE format."
                )
            object_type, language = "NOTEBOOK", language.upper()
        elif format == "RAW":
            object_type, language = "FILE", None
        else:
            raise InvalidParameterValue(f"Import format {format} is not supported by this workspace.")
        with self._lock:
            existing = self._objects.get(path)
            if existing is not None and (not overwrite or existing["object_type"] == "DIRECTORY"):
                raise ResourceAlreadyExists(f"{path} already exists.")
            self._require_parent(path)
            obj = self._put(path, object_type, language, size=len(content))
            self._store.put_blob(f"ws:{obj['object_id']}", content)

    def export(self, path: str) -> tuple[dict[str, Any], bytes]:
        obj = self.get_status(path)
        if obj["object_type"] == "DIRECTORY":
            raise InvalidParameterValue(f"Path ({obj['path']}) is a directory; export it in DBC format.")
        content = self._store.get_blob(f"ws:{obj['object_id']}") or b""
        if obj["object_type"] == "NOTEBOOK" and not content.startswith(NOTEBOOK_HEADER.encode()):
            content = f"{NOTEBOOK_HEADER}\n".encode() + content
        return obj, content

    def get_status(self, path: str) -> dict[str, Any]:
        path = normalize(path)
        obj = self._objects.get(path)
        if obj is None:
            raise ResourceDoesNotExist(f"Path ({path}) doesn't exist.")
        return dict(obj)

    def list(self, path: str) -> list[dict[str, Any]]:
        directory = self.get_status(path)
        if directory["object_type"] != "DIRECTORY":
            return [directory]
        parent = directory["path"]
        return sorted(
            (dict(o) for p, o in self._objects.items() if p != "/" and posixpath.dirname(p) == parent),
            key=lambda o: o["path"],
        )

    def mkdirs(self, path: str) -> None:
        path = normalize(path)
        with self._lock:
            parts = [p for p in path.split("/") if p]
            for i in range(1, len(parts) + 1):
                current = "/" + "/".join(parts[:i])
                existing = self._objects.get(current)
                if existing is None:
                    self._put(current, "DIRECTORY", None)
                elif existing["object_type"] != "DIRECTORY":
                    raise ResourceAlreadyExists(
                        f"Cannot create directory {path} because {current} is an existing file."
                    )

    def delete(self, path: str, *, recursive: bool) -> None:
        obj = self.get_status(path)
        path = obj["path"]
        with self._lock:
            children = [p for p in self._objects if p.startswith(path.rstrip("/") + "/")]
            if children and not recursive:
                raise DirectoryNotEmpty(f"Folder ({path}) is not empty.")
            for p in [*children, path]:
                removed = self._objects.pop(p)
                self._store.delete("workspace_object", p)
                self._store.delete_blob(f"ws:{removed['object_id']}")

    # --- running tasks ---------------------------------------------------------------------------
    def resolve_source(self, path: str, *, notebook: bool) -> ResolvedSource | None:
        """The local file a task runs: mounted folders first, then imported objects; None if missing."""
        raw = path.removeprefix("file:")
        if raw.startswith("/") and not raw.startswith(("/Workspace/", "/Repos/", "/Shared/", "/Users/")):
            local = Path(raw)
            if local.is_file():
                return ResolvedSource(local, [str(local.parent)])
        path = normalize(raw)
        for prefix in sorted(self._mounts, key=len, reverse=True):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                root = self._mounts[prefix]
                relative = path[len(prefix) :].lstrip("/")
                base = root / relative
                for candidate in (base, base.with_name(base.name + ".py")) if notebook else (base,):
                    if candidate.is_file():
                        return ResolvedSource(candidate, [str(root)])
                return None
        obj = self._objects.get(path)
        if obj is None or obj["object_type"] == "DIRECTORY" or (notebook and obj["object_type"] != "NOTEBOOK"):
            return None
        content = self._store.get_blob(f"ws:{obj['object_id']}") or b""
        target = self._files_dir / str(obj["object_id"]) / (posixpath.basename(path) + (".py" if notebook else ""))
        _write_atomically(target, content)
        # A notebook is not an importable module on Databricks: its folder on sys.path must not make it one
        # (a notebook named `etl` would shadow an `etl` package). A script's own folder is, as for python.
        return ResolvedSource(target, [] if notebook else [str(target.parent)])

    # --- internals -------------------------------------------------------------------------------
    def _require_parent(self, path: str) -> None:
        parent = posixpath.dirname(path)
        obj = self._objects.get(parent)
        if obj is None or obj["object_type"] != "DIRECTORY":
            raise ResourceDoesNotExist(f"The parent folder ({parent}) does not exist.")

    def _put(self, path: str, object_type: str, language: str | None, *, size: int = 0) -> dict[str, Any]:
        now = clock.now_ms()
        previous = self._objects.get(path)
        obj: dict[str, Any] = {
            "path": path,
            "object_type": object_type,
            "object_id": previous["object_id"] if previous else self._store.next_id("workspace_object", 1000),
            "created_at": previous["created_at"] if previous else now,
            "modified_at": now,
        }
        if language:
            obj["language"] = language
        if object_type != "DIRECTORY":
            obj["size"] = size
        self._objects[path] = obj
        self._store.put("workspace_object", path, obj)
        return obj


def decode_content(content: str | None) -> bytes:
    try:
        return base64.b64decode(content or "", validate=True)
    except ValueError as e:
        raise InvalidParameterValue("content must be base64-encoded.") from e


def _write_atomically(target: Path, content: bytes) -> None:
    """Runs of one notebook start concurrently: rewriting the file in place let a task read it empty (it
    then "succeeded" in 35 ms with no output — seen with 30 files at once). Unchanged content is left
    alone; new content replaces the file in one rename, so a reader sees the old or the new file whole."""
    if target.is_file() and target.read_bytes() == content:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as handle:
        handle.write(content)
    os.replace(handle.name, target)
