"""moto routes a request by its Host header without listing its own package (sim/aws/moto_seams/routing.py)."""

from __future__ import annotations

import os

import pytest
from moto import backends


def test_routing_a_request_does_not_list_motos_package_directory(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = aws.client("s3")
    s3.list_buckets()  # the first requests of the process may read it once
    aws.client("sts").get_caller_identity()
    listed: list[str] = []
    real_listdir = os.listdir

    def listdir(path: str = ".") -> list[str]:
        listed.append(str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    for _ in range(3):
        s3.list_buckets()
        aws.client("sts").get_caller_identity()
    moto_dir = os.path.dirname(backends.__file__)
    assert [p for p in listed if p == moto_dir] == []


def test_the_service_list_is_motos_own(aws) -> None:
    modules = list(backends.list_of_moto_modules())
    assert {"s3", "stepfunctions", "awslambda", "moto_api"} <= set(modules)
    assert all(not m.startswith("__") for m in modules) and modules == sorted(modules)
