"""List the files under a prefix for the Map variant (every page of ListObjectsV2).

Input: {bucket, prefix}
Output: {files: [{bucket, key, size, etag}, ...]}

Folder markers (keys ending in "/") are skipped. The list travels in the execution's state, which
Step Functions caps at 256 KiB, so more than MAX_FILES files is an error rather than a truncated run.
"""

from __future__ import annotations

import os
from typing import Any

import boto3

from lambdas import _events
from lambdas._errors import InvalidInput

MAX_FILES = int(os.environ.get("LIST_FILES_MAX", "1000"))
PAGE_SIZE = 1000  # ListObjectsV2's own maximum


class TooManyFiles(InvalidInput):
    """More files under the prefix than one Map state input can carry."""


def lambda_handler(event: Any, context: Any = None) -> dict[str, Any]:
    event = _events.mapping(event)
    bucket = _events.text(event, "bucket")
    prefix = event.get("prefix", "")
    if not isinstance(prefix, str):
        raise InvalidInput(f"field 'prefix' must be a string, got {prefix!r}")
    files = []
    paginator = boto3.client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": PAGE_SIZE}):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/"):
                continue
            files.append(
                {"bucket": bucket, "key": obj["Key"], "size": obj["Size"], "etag": obj["ETag"].strip('"')}
            )
            if len(files) > MAX_FILES:
                raise TooManyFiles(
                    f"more than {MAX_FILES} files under s3://{bucket}/{prefix}; split the prefix"
                )
    return {"files": files}
