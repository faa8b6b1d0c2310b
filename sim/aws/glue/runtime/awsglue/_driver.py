"""The Glue driver's world on a cluster worker that already holds a SparkSession.

On Glue the job's script *is* the driver: `SparkContext()` creates the context and `s3://` paths work
everywhere. On a stepbricks cluster the context exists already and pyspark has no S3 filesystem, so,
for the duration of one run only (then everything is restored):
- `SparkContext()` returns the running context (pyspark would raise "Cannot run multiple
  SparkContexts at once");
- `spark.read.<format>(s3://...)` / `.load(s3://...)` read a staged local copy (see `_staging`);
- `df.write.<format>(s3://...)` / `.save(s3://...)` write locally and upload, honouring the save mode.
Chosen over a Hadoop FileSystem because no S3 jars exist offline (docs/glue-lab.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyspark.context import SparkContext
from pyspark.sql.readwriter import DataFrameReader, DataFrameWriter

from awsglue._staging import Staging, is_s3

__all__ = ["current_staging", "glue_driver"]

_READERS = ("csv", "json", "parquet", "text", "orc", "load")
_WRITERS = ("csv", "json", "parquet", "text", "orc", "save")
_staging: Staging | None = None


def current_staging() -> Staging:
    if _staging is None:
        raise RuntimeError("awsglue is only usable inside a stepbricks Glue job run")
    return _staging


def _local_paths(value: Any) -> Any:
    if is_s3(value):
        return current_staging().local_for_read(value)
    if isinstance(value, list | tuple) and any(is_s3(v) for v in value):
        return [current_staging().local_for_read(v) if is_s3(v) else v for v in value]
    return value


def _reader(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def read(self: DataFrameReader, *args: Any, **kwargs: Any) -> Any:
        args = tuple(_local_paths(a) for a in args)
        for key in ("path", "paths"):
            if key in kwargs:
                kwargs[key] = _local_paths(kwargs[key])
        return original(self, *args, **kwargs)

    return read


def _writer(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def write(self: DataFrameWriter, *args: Any, **kwargs: Any) -> Any:
        path = kwargs.get("path", args[0] if args else None)
        if not is_s3(path):
            return original(self, *args, **kwargs)
        staging = current_staging()
        mode = kwargs.pop("mode", None) or getattr(self, "_sb_mode", None) or "errorifexists"
        if not _prepare_target(path, mode):
            return None
        local = staging.local_for_write()
        if "path" in kwargs:
            kwargs["path"] = str(local)
        else:
            args = (str(local), *args[1:])
        self._jwrite = self._jwrite.mode("overwrite")  # a fresh local directory; the mode was applied to S3
        original(self, *args, **kwargs)
        staging.upload(local, path)
        return None

    return write


def _prepare_target(uri: str, mode: str) -> bool:
    """Apply Spark's save mode to the S3 prefix; False when there is nothing to write (`ignore`)."""
    import boto3

    bucket, _, key = uri.split("://", 1)[1].partition("/")
    prefix = key.rstrip("/") + "/" if key else ""
    s3 = boto3.client("s3")
    existing = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for o in page.get("Contents", [])]
    mode = mode.lower()
    if not existing or mode == "append":
        return True
    if mode == "overwrite":
        for start in range(0, len(existing), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in existing[start:start + 1000]]})
        return True
    if mode == "ignore":
        return False
    raise FileExistsError(f"[PATH_ALREADY_EXISTS] Path {uri} already exists. Set mode as \"overwrite\" "
                          "to overwrite the existing path.")


def _mode(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def mode(self: DataFrameWriter, saveMode: str | None) -> Any:
        self._sb_mode = saveMode  # type: ignore[attr-defined]
        return original(self, saveMode)

    return mode


def _context_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    active = SparkContext._active_spark_context
    return active if active is not None else object.__new__(cls)


@contextmanager
def glue_driver(staging_root: Path | None = None) -> Iterator[Staging]:
    """Patch pyspark for one Glue run (see the module docstring) and undo it afterwards."""
    global _staging
    saved: list[tuple[type, str, Any]] = []

    def patch(owner: type, name: str, value: Any) -> None:
        saved.append((owner, name, owner.__dict__.get(name)))
        setattr(owner, name, value)

    original_init = SparkContext.__init__

    def context_init(self: SparkContext, *args: Any, **kwargs: Any) -> None:
        if self is SparkContext._active_spark_context:
            return  # the cluster's context: Glue's `SparkContext()` gets the one driver context
        original_init(self, *args, **kwargs)

    _staging = Staging(staging_root)
    try:
        patch(SparkContext, "__new__", staticmethod(_context_new))
        patch(SparkContext, "__init__", context_init)
        for name in _READERS:
            patch(DataFrameReader, name, _reader(getattr(DataFrameReader, name)))
        for name in _WRITERS:
            patch(DataFrameWriter, name, _writer(getattr(DataFrameWriter, name)))
        patch(DataFrameWriter, "mode", _mode(DataFrameWriter.mode))
        yield _staging
    finally:
        for owner, name, value in reversed(saved):
            if value is None:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        _staging.close()
        _staging = None
