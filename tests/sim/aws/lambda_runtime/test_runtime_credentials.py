"""The credential hand-off on its own (no moto): what a handler finds in AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as the managed runtime sets them per execution environment."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.aws.lambda_runtime import FunctionConfig, LambdaRuntime


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


_ECHO = _zip("import os\ndef handler(e, c):\n    return {k: os.environ.get(k) for k in "
             "('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')}\n")
_BASE = {"AWS_ACCESS_KEY_ID": "simulator-key", "AWS_SECRET_ACCESS_KEY": "simulator-secret"}


def _with_role(role: str) -> FunctionConfig:
    return FunctionConfig(name="echo", version="$LATEST", arn="arn:aws:lambda:us-east-1:123456789012:function:echo",
                          handler="app.handler", runtime="python3.11", timeout_s=3.0, memory_mb=128,
                          region="us-east-1", account_id="123456789012",
                          code_sha256=hashlib.sha256(_ECHO).hexdigest(), role=role)


@pytest.fixture
def assumed() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def runtime(tmp_path: Path, assumed: list[tuple[str, str]]) -> Iterator[LambdaRuntime]:
    def credentials(config: FunctionConfig) -> dict[str, str]:
        assumed.append((config.role, config.name))
        n = len(assumed)
        return {"AWS_ACCESS_KEY_ID": f"ASIA{n}", "AWS_SECRET_ACCESS_KEY": f"secret-{n}",
                "AWS_SESSION_TOKEN": f"token-{n}", "Expiration": "ignored"}

    rt = LambdaRuntime(state_dir=tmp_path, base_env=_BASE, credentials=credentials)
    yield rt
    rt.close()


def _echo(rt: LambdaRuntime, config: FunctionConfig) -> dict[str, str]:
    return json.loads(rt.invoke(config, lambda: _ECHO, b"{}").payload)


def test_each_new_environment_gets_its_roles_credentials_and_warm_ones_keep_them(runtime, assumed):
    role = "arn:aws:iam::123456789012:role/echo-role"

    cold, warm = _echo(runtime, _with_role(role)), _echo(runtime, _with_role(role))

    assert cold == {"AWS_ACCESS_KEY_ID": "ASIA1", "AWS_SECRET_ACCESS_KEY": "secret-1", "AWS_SESSION_TOKEN": "token-1"}
    assert warm == cold, "a warm environment keeps the credentials it started with"
    assert assumed == [(role, "echo")], "assumed once per environment, for the function, with its role"


def test_a_changed_role_starts_a_new_environment_with_the_new_roles_credentials(runtime, assumed):
    _echo(runtime, _with_role("arn:aws:iam::123456789012:role/first"))

    after = _echo(runtime, _with_role("arn:aws:iam::123456789012:role/second"))

    assert after["AWS_SESSION_TOKEN"] == "token-2"
    assert [role for role, _ in assumed] == ["arn:aws:iam::123456789012:role/first",
                                             "arn:aws:iam::123456789012:role/second"]


def test_without_a_credential_source_handlers_get_the_simulators_own_credentials(tmp_path):
    rt = LambdaRuntime(state_dir=tmp_path, base_env=_BASE)
    try:
        seen = _echo(rt, _with_role("arn:aws:iam::123456789012:role/echo-role"))
    finally:
        rt.close()

    assert seen == {"AWS_ACCESS_KEY_ID": "simulator-key", "AWS_SECRET_ACCESS_KEY": "simulator-secret",
                    "AWS_SESSION_TOKEN": "testing"}
