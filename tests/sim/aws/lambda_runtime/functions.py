"""Functions for specs that drive `LambdaRuntime` on its own (no moto): a one-file package and its config."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.aws.lambda_runtime import FunctionConfig, LambdaRuntime

NO_ENDPOINT = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # handlers here never call AWS


def package(source: str) -> bytes:
    """A deployment package holding `app.py`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def config(name: str, code: bytes, *, runtime: str = "python3.11", timeout_s: float = 3.0) -> FunctionConfig:
    """`name`'s configuration with `app.handler` as its handler."""
    return FunctionConfig(name=name, version="$LATEST", arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                          handler="app.handler", runtime=runtime, timeout_s=timeout_s, memory_mb=128,
                          region="us-east-1", account_id="123456789012",
                          code_sha256=hashlib.sha256(code).hexdigest())


@contextmanager
def local_runtime(state_dir: Path, **options: Any) -> Iterator[LambdaRuntime]:
    """A `LambdaRuntime` with `options` (max_idle_workers, capacity...), its environments killed after."""
    runtime = LambdaRuntime(state_dir=state_dir, base_env=NO_ENDPOINT, **options)
    try:
        yield runtime
    finally:
        runtime.close()
