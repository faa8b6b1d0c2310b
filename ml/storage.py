"""Bytes in and out of `s3://` or local paths, for the ML jobs (which work in pandas, not Spark).

Training data is small enough for one pandas process, so the ML jobs read Parquet objects directly
through boto3 — which honours `AWS_ENDPOINT_URL` and so reaches the simulated S3 and real S3 alike —
instead of staging through Spark. `ObjectStore` is the subset of `etl.storage.Storage` the ML jobs use
(same method names and meanings), so the ETL's adapter can be passed as `storage=` unchanged; the
default, `LocalOrS3Store`, needs no SparkSession.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

__all__ = ["LocalOrS3Store", "ObjectStore", "join_uri"]


class ObjectStore(Protocol):
    def list(self, uri: str) -> list[str]:
        """Every object (file) under the prefix/directory `uri`, recursively, as full URIs, sorted."""

    def get_bytes(self, uri: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""

    def put_bytes(self, uri: str, data: bytes) -> None: ...


def join_uri(root: str, *parts: str) -> str:
    """`root/part1/part2` for both `s3://bucket/prefix` and local paths."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts)])


class LocalOrS3Store:
    """`s3://` through boto3 (one client, created on first use); everything else as a local path."""

    def __init__(self) -> None:
        self._s3 = None

    def _client(self):
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3")
        return self._s3

    def list(self, prefix: str) -> list[str]:
        if prefix.startswith("s3://"):
            bucket, key = _bucket_key(prefix)
            key = key.rstrip("/") + "/" if key else ""
            paginator = self._client().get_paginator("list_objects_v2")
            uris = [
                f"s3://{bucket}/{obj['Key']}"
                for page in paginator.paginate(Bucket=bucket, Prefix=key)
                for obj in page.get("Contents", [])
            ]
            return sorted(uris)
        root = _local(prefix)
        if not root.exists():
            return []
        return sorted(str(p) for p in root.rglob("*") if p.is_file())

    def get_bytes(self, uri: str) -> bytes | None:
        if uri.startswith("s3://"):
            bucket, key = _bucket_key(uri)
            client = self._client()
            try:
                return client.get_object(Bucket=bucket, Key=key)["Body"].read()
            except client.exceptions.NoSuchKey:
                return None
        path = _local(uri)
        return path.read_bytes() if path.is_file() else None

    def put_bytes(self, uri: str, data: bytes) -> None:
        if uri.startswith("s3://"):
            bucket, key = _bucket_key(uri)
            self._client().put_object(Bucket=bucket, Key=key, Body=data)
            return
        path = _local(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see a half-written file


def _bucket_key(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if not parsed.netloc:
        raise ValueError(f"S3 URI {uri!r} has no bucket; expected s3://bucket/key")
    return parsed.netloc, parsed.path.lstrip("/")


def _local(uri: str) -> Path:
    return Path(urlparse(uri).path) if uri.startswith("file://") else Path(uri)
