"""One AwsSimulator for the whole folder (start-up is cheap, but workers and state are worth reusing)."""

from __future__ import annotations

import io
import itertools
import textwrap
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sim.aws import AwsSimulator

# Async retries wait ~60 s then ~120 s on AWS; here the real clock runs, so keep them short.
ASYNC_RETRY_DELAYS_S = (0.05, 0.05)
_names = itertools.count(1)


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsSimulator]:
    with AwsSimulator.start(state_dir=tmp_path_factory.mktemp("aws-state"),
                            async_retry_delays=ASYNC_RETRY_DELAYS_S) as simulator:
        yield simulator


@pytest.fixture(scope="session")
def role_arn(aws: AwsSimulator) -> str:
    """CreateFunction needs an existing role, as on AWS."""
    return aws.client("iam").create_role(
        RoleName="stepbricks-test-lambda", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
    )["Role"]["Arn"]


@pytest.fixture(scope="session")
def lambda_client(aws: AwsSimulator) -> Any:
    # No client retries: a 429 must reach the test as it would reach a caller with retries off.
    return aws.client("lambda", retries={"max_attempts": 0}, read_timeout=60)


def build_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


@pytest.fixture(name="build_zip")
def build_zip_fixture() -> Callable[[dict[str, str]], bytes]:
    return build_zip


@pytest.fixture
def make_function(lambda_client: Any, role_arn: str) -> Callable[..., str]:
    """Create a Python function from `{"app.py": source, ...}`; returns its (unique) name."""

    def create(files: dict[str, str] | str, *, handler: str = "app.handler", timeout: int = 3,
               memory: int = 128, env: dict[str, str] | None = None, name: str | None = None) -> str:
        if isinstance(files, str):
            files = {"app.py": files}
        function_name = name or f"fn-{next(_names)}"
        lambda_client.create_function(
            FunctionName=function_name, Runtime="python3.11", Role=role_arn, Handler=handler,
            Code={"ZipFile": build_zip(files)}, Timeout=timeout, MemorySize=memory,
            Environment={"Variables": env or {}},
        )
        return function_name

    return create
