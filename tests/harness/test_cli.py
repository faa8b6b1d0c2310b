"""The `stepbricks` CLI against a `stepbricks up` in another process: env, invoke, logs, Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from harness.clients import aws_client
from tests import schedule

pytestmark = pytest.mark.xdist_group(schedule.FLIGHTS_IN_SUBPROCESSES)

ROOT = Path(__file__).resolve().parents[2]
STEPBRICKS = Path(sys.executable).with_name("stepbricks")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STEPBRICKS_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([str(STEPBRICKS), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    log = (home / "up.log").open("w")
    # SIGINT ignored, as a background job of a non-interactive shell inherits it (a CI runner's): Ctrl-C must
    # stop `up` all the same (Python leaves an inherited SIG_IGN alone; the spec once failed that way).
    proc = subprocess.Popen(
        ["sh", "-c", 'trap "" INT; exec "$0" "$@"', str(STEPBRICKS), "up", "--state-dir", str(home / "state"),
         "--no-databricks"],
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


@pytest.fixture(scope="module")
def hello(up) -> str:
    """A function on the `up` simulator, created once: the invoke tests must not depend on each other's order."""
    env = {**up["env"], "AWS_DEFAULT_REGION": "us-east-1"}
    role = aws_client("iam", env).create_role(RoleName="cli-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.py", "def handler(event, context):\n    print('hello from', event['who'])\n"
                                "    return {'greeting': 'hi ' + event['who']}\n")
    lam = aws_client("lambda", env)
    lam.create_function(FunctionName="cli-hello", Runtime="python3.11", Role=role, Handler="hello.handler",
                        Code={"ZipFile": buf.getvalue()})
    return "cli-hello"


def test_invoke_and_logs_iterate_on_a_function(up, hello):
    invoked = _cli(up["home"], "invoke", "cli-hello", "--payload", '{"who": "tests"}')
    assert invoked.returncode == 0, invoked.stdout + invoked.stderr
    assert '"greeting": "hi tests"' in invoked.stdout
    assert "hello from tests" in invoked.stdout  # the log tail

    logs = _cli(up["home"], "logs", "cli-hello")
    assert logs.returncode == 0, logs.stdout + logs.stderr
    assert "hello from tests" in logs.stdout and "REPORT RequestId" in logs.stdout


def test_invoke_reports_a_function_error_with_exit_code_1(up, hello):
    bad = _cli(up["home"], "invoke", "cli-hello", "--payload", "{}")
    assert bad.returncode == 1
    assert "KeyError" in bad.stdout


def test_a_payload_that_is_not_json_is_refused_saying_so(up, hello):
    result = _cli(up["home"], "invoke", "cli-hello", "--payload", "{not json")
    assert result.returncode == 2 and "--payload is not JSON" in result.stdout


def test_sigusr1_prints_every_thread_s_stack_and_the_simulator_keeps_running(up):
    log = up["home"] / "up.log"
    before = log.stat().st_size
    up["proc"].send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while "most recent call first" not in log.read_text()[before:] and time.monotonic() < deadline:
        time.sleep(0.1)
    dump = log.read_text()[before:]
    assert "Thread 0x" in dump and dump.count("most recent call first") > 1, dump[-3000:]
    assert up["proc"].poll() is None
    assert _cli(up["home"], "env").returncode == 0


def test_ctrl_c_stops_the_simulator_cleanly_and_removes_the_endpoints_file(up):
    up["proc"].send_signal(signal.SIGINT)
    try:
        code = up["proc"].wait(timeout=60)
    except subprocess.TimeoutExpired:
        up["proc"].send_signal(signal.SIGUSR1)  # `up` prints every thread's stack: where it is stuck
        time.sleep(2)
        pytest.fail("stepbricks up did not stop within 60 s of Ctrl-C:\n" + (up["home"] / "up.log").read_text()[-6000:])
    assert code == 0
    assert not (up["home"] / "endpoints.json").exists()
    assert _cli(up["home"], "env").returncode == 1


RUN_SECONDS = 480  # the simulator's start, one Spark cluster and three Databricks jobs on 1500 rows


@pytest.mark.slow
@pytest.mark.timeout(RUN_SECONDS + 60)
def test_run_flies_the_pipeline_to_success_and_summarises_it(tmp_path):
    """`stepbricks run` is what `make run` calls: its success path, through the real CLI in a subprocess."""
    env = {**os.environ, "STEPBRICKS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}

    result = subprocess.run(
        [str(STEPBRICKS), "run", "--rows", "1500", "--seed", "7", "--state-dir", str(tmp_path / "state")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_SECONDS,
    )

    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-2000:]
    assert "generated customers-7-1500.csv: 1500 rows" in out
    assert re.search(r"SUCCEEDED\s+input s3://\S+/incoming/customers-7-1500\.csv", out), out[-4000:]
    runs = re.findall(r"│\s*(\d+)\s*│\s*(\d+)\s*│\s*(\S+)\s*│\s*TERMINATED SUCCESS", out)
    assert {name.rsplit("-", 1)[-1] for _, _, name in runs} == {"etl", "train", "evaluate"}, out[-4000:]
    data = re.search(r"│\s*1500\s*│\s*(\d+)\s*│\s*(\d+)\s*│\s*s3://", out)
    assert data and int(data.group(1)) + int(data.group(2)) == 1500, "rows in == written + quarantined"
    assert re.search(r"│\s*roc_auc\s*│\s*0\.\d{4}\s*│", out)
    assert re.search(r"quality gate\s*│\s*roc_auc ≥ 0\.7: True", out)
    report = re.search(r"report: (\S+\.html)", out)
    assert report and Path(report.group(1)).is_file(), out[-2000:]
    assert Path(report.group(1)).is_relative_to(tmp_path / "home" / "reports")
