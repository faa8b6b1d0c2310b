"""`s3://` for a Spark without S3 jars: objects are staged through the S3 API (boto3, `AWS_ENDPOINT_URL`).

A read downloads the object, or every object under the prefix, into a local directory Spark reads
(kept until the run ends: DataFrames are lazy). A write lets Spark write a fresh local directory and
uploads its data files under the target prefix; Spark's `_SUCCESS` and `.crc` side files are not
uploaded (Glue's S3 sinks write none), and part-file names are unique, so a second write adds files
next to the first, as Glue's sinks do.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import boto3

__all__ = ["Staging", "is_s3"]


def is_s3(path: object) -> bool:
    return isinstance(path, str) and path.startswith(("s3://", "s3a://", "s3n://"))


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key


class Staging:
    """One Glue run's staging area; `close()` removes it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="glue-staging-", dir=root))
        self._numbers = itertools.count(1)
        self._s3: Any = None

    def _client(self) -> Any:
        if self._s3 is None:
            self._s3 = boto3.client("s3")
        return self._s3

    def local_for_read(self, uri: str) -> str:
        """A local path holding what `uri` names: one object, or every object under it as a prefix."""
        bucket, key = _split(uri)
        target = self.root / f"read-{next(self._numbers)}"
        s3 = self._client()
        exact = key and not key.endswith("/")
        if exact:
            try:
                s3.head_object(Bucket=bucket, Key=key)
            except s3.exceptions.ClientError:
                exact = False
        if exact:
            local = target / key.rsplit("/", 1)[-1]
            local.parent.mkdir(parents=True)
            s3.download_file(bucket, key, str(local))
            return str(local)
        prefix = key.rstrip("/") + "/" if key else ""
        found = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix):]
                if not relative or relative.endswith("/"):
                    continue
                local = target / relative
                local.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(local))
                found += 1
        if not found:
            # Spark's own wording for a missing input, with the S3 URI the script asked for.
            raise FileNotFoundError(f"[PATH_NOT_FOUND] Path does not exist: {uri}.")
        return str(target)

    def local_for_write(self) -> Path:
        return self.root / f"write-{next(self._numbers)}"

    def upload(self, local_dir: Path, uri: str) -> list[str]:
        """Upload the data files Spark wrote under `local_dir` to the prefix `uri`; returns their keys."""
        bucket, key = _split(uri)
        prefix = key.rstrip("/") + "/" if key else ""
        keys = []
        for path in sorted(local_dir.rglob("*")):
            if not path.is_file() or path.name.startswith(("_", ".")) or path.name.endswith(".crc"):
                continue
            object_key = prefix + path.relative_to(local_dir).as_posix()
            self._client().upload_file(str(path), bucket, object_key)
            keys.append(object_key)
        return keys

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
