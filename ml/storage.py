"""Bytes in and out of `s3://` or local paths, for the ML jobs: models, metrics, and their pandas reader.

Without a SparkSession the ML jobs read Parquet objects directly through boto3 (which honours
`AWS_ENDPOINT_URL` and so reaches the simulated S3 and real S3 alike) instead of staging through
Spark. The store is the ETL's own (`etl.objects`, which needs no SparkSession): `ObjectStore` is what
the ML jobs use of it, so the ETL's `etl.storage.Storage` can be passed as `storage=` unchanged, and
`LocalOrS3Store` is the default.
"""

from __future__ import annotations

from etl.objects import LocalOrS3Store, ObjectStore

__all__ = ["LocalOrS3Store", "ObjectStore", "join_uri"]


def join_uri(root: str, *parts: str) -> str:
    """`root/part1/part2` for both `s3://bucket/prefix` and local paths."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts)])
