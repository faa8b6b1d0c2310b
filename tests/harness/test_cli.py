"""The `stepbricks` CLI against a `stepbricks up` in another process: env, invoke, logs, Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from harness.clients import aws_client

ROOT = Path(__file__).resolve().parents[2]
STEPBRICKS = Path(sys.executable).with_name("stepbricks")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STEPBRICKS_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([str(STEPBRICKS), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    log = (home / "up.log").open("w")
    proc = subprocess.Popen(
        [str(STEPBRICKS), "up", "--state-dir", str(home / "state"), "--no-databricks"],
        cwd=ROOT, env={**os.environ, "STEPBRICKS_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT,
    )
    endpoints = home / "endpoints.json"
    deadline = time.monotonic() + 120
    while not endpoints.exists():
        assert proc.poll() is None and time.monotonic() < deadline, (home / "up.log").read_text()
        time.sleep(0.2)
    yield {"home": home, "proc": proc, "env": json.loads(endpoints.read_text())["env"]}
    if proc.poll() is None:
        proc.kill()
    log.close()


def test_the_endpoints_file_is_private_to_the_user(up):
    assert (up["home"] / "endpoints.json").stat().st_mode & 0o077 == 0


def test_env_prints_export_lines_for_the_running_simulator(up):
    result = _cli(up["home"], "env")
    assert result.returncode == 0, result.stderr
    assert f"export AWS_ENDPOINT_URL={up['env']['AWS_ENDPOINT_URL']}" in result.stdout
    assert up["env"]["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")


def test_invoke_and_logs_iterate_on_a_function(up):
    env = {**up["env"], "AWS_DEFAULT_REGION": "us-east-1"}
    role = aws_client("iam", env).create_role(RoleName="cli-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.py", "def handler(event, context):\n    print('hello from', event['who'])\n"
                                "    return {'greeting': 'hi ' + event['who']}\n")
    lam = aws_client("lambda", env)
    lam.create_function(FunctionName="cli-hello", Runtime="python3.11", Role=role, Handler="hello.handler",
                        Code={"ZipFile": buf.getvalue()})

    invoked = _cli(up["home"], "invoke", "cli-hello", "--payload", '{"who": "tests"}')
    assert invoked.returncode == 0, invoked.stdout + invoked.stderr
    assert '"greeting": "hi tests"' in invoked.stdout
    assert "hello from tests" in invoked.stdout  # the log tail

    logs = _cli(up["home"], "logs", "cli-hello")
    assert logs.returncode == 0, logs.stdout + logs.stderr
    assert "hello from tests" in logs.stdout and "REPORT RequestId" in logs.stdout


def test_invoke_reports_a_function_error_with_exit_code_1(up):
    bad = _cli(up["home"], "invoke", "cli-hello", "--payload", "{}")
    assert bad.returncode == 1
    assert "KeyError" in bad.stdout


def test_a_payload_that_is_not_json_is_refused_saying_so(up):
    result = _cli(up["home"], "invoke", "cli-hello", "--payload", "{not json")
    assert result.returncode == 2 and "--payload is not JSON" in result.stdout


def test_ctrl_c_stops_the_simulator_cleanly_and_removes_the_endpoints_file(up):
    up["proc"].send_signal(signal.SIGINT)
    assert up["proc"].wait(timeout=60) == 0
    assert not (up["home"] / "endpoints.json").exists()
    assert _cli(up["home"], "env").returncode == 1
