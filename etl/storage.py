"""One storage API for the ETL on Databricks and on the simulator's local clusters.

Local pyspark has no `s3a`/`s3` filesystem (no hadoop-aws jars offline, see stack-facts.md), so with
`STEPBRICKS_STORAGE_MODE=staged` (set by simulator clusters) `s3://` data is staged through the S3 API:
reads download the object to a local staging directory that Spark reads, writes go to a local
directory that is then uploaded. Unset or `direct` (Databricks), Spark reads and writes `s3://` URIs
itself. Small metadata operations (manifests, listings, deletes) go through boto3 in both modes, which
honours `AWS_ENDPOINT_URL`. Paths that are not `s3://` are local files in both modes.

The staging directory lives until `close()` (DataFrames are lazy: a staged file must outlive the
DataFrame that reads it), so use the storage as a context manager.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

__all__ = ["MODE_ENV", "Storage", "StorageError", "StorageMode"]

MODE_ENV = "STEPBRICKS_STORAGE_MODE"
STAGING_DIR_ENV = "STEPBRICKS_STAGING_DIR"
StorageMode = Literal["staged", "direct"]


class StorageError(RuntimeError):
    """A storage operation that cannot proceed; the message names the URI and what to do."""


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        bucket, _, key = uri.split("://", 1)[-1].partition("/")
        if not bucket:
            raise StorageError(f"{uri!r} has no bucket: expected s3://bucket/key")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def _local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


class Storage:
    """Read, write, list and delete by URI (`s3://bucket/key` or a local path); see the module docstring."""

    def __init__(
        self,
        spark: SparkSession,
        *,
        mode: StorageMode = "direct",
        staging_dir: Path | None = None,
        s3_client: object | None = None,
    ) -> None:
        if mode not in ("staged", "direct"):
            raise StorageError(f"{MODE_ENV} must be 'staged' or 'direct' (or unset), got {mode!r}")
        self.spark = spark
        self.mode: StorageMode = mode
        self._s3 = s3_client
        self._staging_root = staging_dir
        self._staging: Path | None = None

    @classmethod
    def from_env(cls, spark: SparkSession, *, s3_client: object | None = None) -> Storage:
        """The storage the cluster's configuration asks for: `STEPBRICKS_STORAGE_MODE` (unset = direct)."""
        mode = os.environ.get(MODE_ENV, "").strip().lower() or "direct"
        root = os.environ.get(STAGING_DIR_ENV)
        return cls(spark, mode=mode, staging_dir=Path(root) if root else None, s3_client=s3_client)  # type: ignore[arg-type]

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the staged copies. DataFrames read from them must not be used afterwards."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    # ---- data, through Spark -------------------------------------------------------------------

    def read_text(self, uri: str) -> DataFrame:
        """One row per line (`value`); bytes are kept as read, so invalid UTF-8 can be detected."""
        return self.spark.read.text(self._readable(uri))

    def read_csv(self, uri: str, *, schema: StructType | None = None, **options: str) -> DataFrame:
        reader = self.spark.read.options(**options)
        return (reader.schema(schema) if schema else reader).csv(self._readable(uri))

    def read_json(self, uri: str, *, schema: StructType | None = None, **options: str) -> DataFrame:
        reader = self.spark.read.options(**options)
        return (reader.schema(schema) if schema else reader).json(self._readable(uri))

    def read_parquet(self, *uris: str) -> DataFrame:
        return self.spark.read.parquet(*[self._readable(u) for u in uris])

    def write_parquet(
        self, df: DataFrame, uri: str, *, partition_by: list[str] | tuple[str, ...] = ()
    ) -> list[str]:
        """Write `df` under `uri` (replacing what is there); returns the URIs of the data files written."""
        uri = uri.rstrip("/")
        writer = df.write.mode("overwrite")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if not (is_s3(uri) and self.mode == "staged"):
            writer.parquet(uri)
            return [u for u in self.list(uri) if _is_data_file(u)]
        self.delete_prefix(uri)
        local = self._stage_dir("out") / hashlib.sha256(uri.encode()).hexdigest()[:16]
        writer.parquet(str(local))
        written = []
        for path in sorted(p for p in local.rglob("*") if p.is_file() and _is_data_file(p.name)):
            target = f"{uri}/{path.relative_to(local).as_posix()}"
            dest = S3Uri.parse(target)
            self._client().upload_file(str(path), dest.bucket, dest.key)
            written.append(target)
        shutil.rmtree(local, ignore_errors=True)
        return written

    # ---- objects, through boto3 or the local filesystem ------------------------------------------

    def put_json(self, uri: str, obj: object) -> None:
        self.put_bytes(uri, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())

    def get_json(self, uri: str) -> object | None:
        """The parsed JSON object at `uri`, or None when there is none."""
        data = self.get_bytes(uri)
        return None if data is None else json.loads(data)

    def put_bytes(self, uri: str, data: bytes) -> None:
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            self._client().put_object(Bucket=s3.bucket, Key=s3.key, Body=data)
            return
        path = _local(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic on one filesystem: a reader sees the old file or the new, never half

    def get_bytes(self, uri: str, *, first: int | None = None) -> bytes | None:
        """The object's bytes (only the `first` n when given), or None when it does not exist."""
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            extra = {"Range": f"bytes=0-{first - 1}"} if first else {}
            try:
                return self._client().get_object(Bucket=s3.bucket, Key=s3.key, **extra)["Body"].read()
            except self._client().exceptions.NoSuchKey:
                return None
            except self._client().exceptions.ClientError as exc:
                if exc.response["Error"].get("Code") == "InvalidRange":  # a ranged read of an empty object
                    return b""
                raise
        path = _local(uri)
        if not path.is_file():
            return None
        with path.open("rb") as f:
            return f.read(first) if first else f.read()

    def exists(self, uri: str) -> bool:
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            found = (
                self._client().list_objects_v2(Bucket=s3.bucket, Prefix=s3.key, MaxKeys=1).get("Contents", [])
            )
            return bool(found) and found[0]["Key"] == s3.key
        return _local(uri).is_file()

    def list(self, uri: str) -> list[str]:
        """Every object (file) under the prefix/directory `uri`, recursively, sorted."""
        uri = uri.rstrip("/")
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            prefix = f"{s3.key}/" if s3.key else ""
            pages = self._client().get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=prefix)
            return sorted(f"s3://{s3.bucket}/{o['Key']}" for page in pages for o in page.get("Contents", []))
        root = _local(uri)
        return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []

    def delete(self, uri: str) -> None:
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            self._client().delete_object(Bucket=s3.bucket, Key=s3.key)
        else:
            _local(uri).unlink(missing_ok=True)

    def delete_prefix(self, uri: str) -> None:
        """Delete everything under the prefix/directory `uri`."""
        uri = uri.rstrip("/")
        if not is_s3(uri):
            shutil.rmtree(_local(uri), ignore_errors=True)
            return
        bucket = S3Uri.parse(uri).bucket
        keys = [S3Uri.parse(u).key for u in self.list(uri)]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._client().delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})

    def version(self, uri: str) -> str:
        """What identifies this content of `uri`: ETag and size on S3, size and mtime locally."""
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            try:
                head = self._client().head_object(Bucket=s3.bucket, Key=s3.key)
            except self._client().exceptions.ClientError as exc:
                raise StorageError(f"cannot read {uri}: {exc.response['Error'].get('Code')}") from exc
            return f"{head['ETag'].strip(chr(34))}:{head['ContentLength']}"
        path = _local(uri)
        if not path.is_file():
            raise StorageError(f"cannot read {uri}: no such file")
        stat = path.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    # ---- internals -------------------------------------------------------------------------------

    def _readable(self, uri: str) -> str:
        """The path Spark should read for `uri`: a staged local copy of `s3://` data in staged mode."""
        if not (is_s3(uri) and self.mode == "staged"):
            return uri
        objects = [uri] if self.exists(uri) else self.list(uri)
        if not objects:
            raise StorageError(f"nothing to read at {uri}: no such object or prefix")
        target = self._stage_dir("in") / hashlib.sha256(uri.encode()).hexdigest()[:16]
        for obj in objects:
            s3 = S3Uri.parse(obj)
            relative = Path(s3.key).name if obj == uri else s3.key[len(S3Uri.parse(uri).key) :].lstrip("/")
            local = target / relative
            local.parent.mkdir(parents=True, exist_ok=True)
            self._client().download_file(s3.bucket, s3.key, str(local))
        return str(target / Path(S3Uri.parse(uri).key).name) if objects == [uri] else str(target)

    def _stage_dir(self, kind: str) -> Path:
        if self._staging is None:
            if self._staging_root is not None:
                self._staging_root.mkdir(parents=True, exist_ok=True)
            self._staging = Path(tempfile.mkdtemp(prefix="stepbricks-stage-", dir=self._staging_root))
        path = self._staging / kind
        path.mkdir(exist_ok=True)
        return path

    def _client(self):  # boto3 clients are generated classes: no useful annotation
        if self._s3 is None:
            import boto3  # boto3 reads AWS_ENDPOINT_URL itself (botocore >= 1.31)

            self._s3 = boto3.client("s3")
        return self._s3


def _is_data_file(name: str) -> bool:
    """Spark's output minus its markers (`_SUCCESS`) and checksums (`.part-….crc`)."""
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(("_", "."))
