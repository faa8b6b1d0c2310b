"""ETL fixtures: a real moto S3 server for the staged-storage tests (the shared `spark` is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

RAW_BUCKET = "stepbricks-raw"
PROCESSED_BUCKET = "stepbricks-processed"


@dataclass(frozen=True)
class S3Stack:
    endpoint: str
    s3: object  # boto3 S3 client on the moto server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Stack:
    """boto3 pointed at moto through AWS_ENDPOINT_URL (as on a simulator cluster), with fresh buckets."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in (RAW_BUCKET, PROCESSED_BUCKET):
        if bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    s3.delete_object(Bucket=bucket, Key=obj["Key"])
        else:
            s3.create_bucket(Bucket=bucket)
    return S3Stack(endpoint=moto_endpoint, s3=s3)
