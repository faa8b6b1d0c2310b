"""`dbutils.fs` on local disk: `dbfs:/` lives under the simulator's state directory.

As on Databricks, a path without a scheme is a DBFS path (`/tmp/x` is `dbfs:/tmp/x`); `file:/…`
addresses the cluster's local disk. Return values use databricks-sdk's `FileInfo` (path, name, size,
modificationTime in ms; directories end with "/").
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the SDK costs 0.8 s to import: a worker pays it when a task lists, not at start
    from databricks.sdk.dbutils import FileInfo


class Fs:
    def __init__(self, dbfs_root: Path) -> None:
        self._root = dbfs_root

    def _local(self, path: str) -> Path:
        if path.startswith("file:"):
            return Path("/" + path[len("file:") :].lstrip("/"))
        if path.startswith("dbfs:"):
            path = path[len("dbfs:") :]
        elif "://" in path:
            raise ValueError(f"dbutils.fs on a stepbricks cluster supports dbfs:/ and file:/ paths, not {path}")
        local = (self._root / path.lstrip("/")).resolve()
        if local != self._root.resolve() and self._root.resolve() not in local.parents:
            raise ValueError(f"{path} is outside dbfs:/")
        return local

    def _uri(self, path: str, local: Path) -> str:
        if path.startswith("file:"):
            return f"file:{local}"
        relative = local.relative_to(self._root.resolve()).as_posix()
        return "dbfs:/" + ("" if relative == "." else relative)

    def _existing(self, path: str) -> Path:
        local = self._local(path)
        if not local.exists():
            raise FileNotFoundError(f"File {path} does not exist.")
        return local

    def ls(self, dir: str) -> list[FileInfo]:
        from databricks.sdk.dbutils import FileInfo

        local = self._existing(dir)
        entries = sorted(local.iterdir()) if local.is_dir() else [local]
        infos = []
        for entry in entries:
            uri = self._uri(dir, entry)
            stat = entry.stat()
            if entry.is_dir():
                infos.append(FileInfo(uri.rstrip("/") + "/", entry.name + "/", 0, int(stat.st_mtime * 1000)))
            else:
                infos.append(FileInfo(uri, entry.name, stat.st_size, int(stat.st_mtime * 1000)))
        return infos

    def head(self, file: str, maxBytes: int = 65536) -> str:
        with self._existing(file).open("rb") as handle:
            return handle.read(maxBytes).decode("utf-8", errors="replace")

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        local = self._local(file)
        if local.exists() and not overwrite:
            raise FileExistsError(f"File {file} already exists; pass overwrite=True to replace it.")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(contents, encoding="utf-8")
        return True

    def mkdirs(self, dir: str) -> bool:
        self._local(dir).mkdir(parents=True, exist_ok=True)
        return True

    def cp(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = self._existing(from_), self._local(to)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            if not recurse:
                raise IsADirectoryError(f"{from_} is a directory: pass recurse=True to copy it")
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target / source.name if target.is_dir() else target)
        return True

    def mv(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = self._existing(from_), self._local(to)
        if source.is_dir() and not recurse:
            raise IsADirectoryError(f"{from_} is a directory: pass recurse=True to move it")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
        return True

    def rm(self, dir: str, recurse: bool = False) -> bool:
        """False when nothing was there, as Databricks answers."""
        local = self._local(dir)
        if not local.exists():
            return False
        if local.is_dir():
            if not recurse and any(local.iterdir()):
                raise OSError(f"{dir} is a non-empty directory: pass recurse=True to remove it")
            shutil.rmtree(local)
        else:
            local.unlink()
        return True
