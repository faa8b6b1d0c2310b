"""Objects by URI, without Spark: `s3://bucket/key` through boto3, anything else a local path.

The one implementation of bytes in and out for both pipeline rooms: `etl.storage.Storage` adds Spark
reads and writes on top of `LocalOrS3Store`, and the ML jobs (pandas, no SparkSession) use it as it is.
boto3 honours `AWS_ENDPOINT_URL`, so the same calls reach the simulated S3 and real S3.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "InvalidUriError",
    "LocalOrS3Store",
    "ObjectStore",
    "S3Uri",
    "StorageError",
    "is_data_file",
    "is_s3",
    "local_path",
]


class StorageError(RuntimeError):
    """A storage operation that cannot proceed; the message names the URI and what to do."""


class InvalidUriError(StorageError, ValueError):
    """A URI that names no object (an `s3://` URI without a bucket): a bad argument, not a failed call."""


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        bucket, _, key = uri.split("://", 1)[-1].partition("/")
        if not bucket:
            raise InvalidUriError(f"{uri!r} has no bucket: expected s3://bucket/key")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def local_path(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def is_data_file(name: str) -> bool:
    """Spark's output minus its markers (`_SUCCESS`, `_manifest.json`) and checksums (`.part-….crc`)."""
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(("_", "."))


class ObjectStore(Protocol):
    """What batch readers and the ML jobs need of a store; `LocalOrS3Store` and `etl.storage.Storage` are one."""

    def list(self, uri: str) -> list[str]:
        """Every object (file) under the prefix/directory `uri`, recursively, as full URIs, sorted."""

    def get_bytes(self, uri: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""

    def put_bytes(self, uri: str, data: bytes) -> None: ...


class LocalOrS3Store:
    """Put, get, list and delete by URI. The boto3 client is created on first use (or passed in)."""

    def __init__(self, *, s3_client: object | None = None) -> None:
        self._s3 = s3_client

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
        path = local_path(uri)
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
        path = local_path(uri)
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
        return local_path(uri).is_file()

    def list(self, uri: str) -> list[str]:
        """Every object (file) under the prefix/directory `uri`, recursively, as full URIs, sorted."""
        uri = uri.rstrip("/")
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            prefix = f"{s3.key}/" if s3.key else ""
            pages = self._client().get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=prefix)
            return sorted(f"s3://{s3.bucket}/{o['Key']}" for page in pages for o in page.get("Contents", []))
        root = local_path(uri)
        return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []

    def delete(self, uri: str) -> None:
        if is_s3(uri):
            s3 = S3Uri.parse(uri)
            self._client().delete_object(Bucket=s3.bucket, Key=s3.key)
        else:
            local_path(uri).unlink(missing_ok=True)

    def delete_prefix(self, uri: str) -> None:
        """Delete everything under the prefix/directory `uri`."""
        uri = uri.rstrip("/")
        if not is_s3(uri):
            shutil.rmtree(local_path(uri), ignore_errors=True)
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
        path = local_path(uri)
        if not path.is_file():
            raise StorageError(f"cannot read {uri}: no such file")
        stat = path.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"

    def _client(self):  # boto3 clients are generated classes: no useful annotation
        if self._s3 is None:
            import boto3  # boto3 reads AWS_ENDPOINT_URL itself (botocore >= 1.31)

            self._s3 = boto3.client("s3")
        return self._s3
