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
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from etl.objects import LocalOrS3Store, S3Uri, StorageError, is_data_file, is_s3

__all__ = ["MODE_ENV", "Storage", "StorageError", "StorageMode"]

MODE_ENV = "STEPBRICKS_STORAGE_MODE"
STAGING_DIR_ENV = "STEPBRICKS_STAGING_DIR"
StorageMode = Literal["staged", "direct"]


class Storage(LocalOrS3Store):
    """Read, write, list and delete by URI (`s3://bucket/key` or a local path); see the module docstring.

    The object operations (bytes, JSON, listings, deletes) are `etl.objects.LocalOrS3Store`'s; this class
    adds what goes through Spark.
    """

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
        super().__init__(s3_client=s3_client)
        self.spark = spark
        self.mode: StorageMode = mode
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
            return [u for u in self.list(uri) if is_data_file(u)]
        self.delete_prefix(uri)
        local = self._stage_dir("out") / hashlib.sha256(uri.encode()).hexdigest()[:16]
        writer.parquet(str(local))
        written = []
        for path in sorted(p for p in local.rglob("*") if p.is_file() and is_data_file(p.name)):
            target = f"{uri}/{path.relative_to(local).as_posix()}"
            dest = S3Uri.parse(target)
            self._client().upload_file(str(path), dest.bucket, dest.key)
            written.append(target)
        shutil.rmtree(local, ignore_errors=True)
        return written

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
