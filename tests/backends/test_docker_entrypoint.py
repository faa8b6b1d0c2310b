"""The image's entry point (docker/serve.py), run directly on this machine with the same arguments the
compose file gives it, only with free ports and loopback URLs: the servers start, pass the compose
health check, and hand the stack's routes to the Lambdas they run."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
import yaml

from harness.backends import COMPOSE_FILE, DOCKER_TOKEN_VAR
from harness.clients import aws_client
from harness.ports import free_ports

SERVE = COMPOSE_FILE.parent / "docker" / "serve.py"
HANDLER = "import os\ndef handler(event, context):\n    return {k: v for k, v in os.environ.items() if 'ENDPOINT' in k}\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """docker/serve.py with the compose file's command, ports swapped for free ones."""
    command = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["stepbricks"]["command"]
    ports = dict(zip(("aws-port", "lambda-port", "databricks-port"), free_ports(3), strict=True))
    state = tmp_path_factory.mktemp("serve-state")
    overrides = {"host": "127.0.0.1", "state-dir": str(state), **{k: str(v) for k, v in ports.items()},
                 "localstack": "http://127.0.0.1:4566", "stepfunctions": "http://127.0.0.1:8083",
                 "mlflow": "http://127.0.0.1:5050"}
    args = []
    for arg in command:
        name = arg.removeprefix("--").split("=", 1)[0]
        args.append(f"--{name}={overrides[name]}")
    env = {**os.environ, DOCKER_TOKEN_VAR: "dapi-serve-test-token"}
    proc = subprocess.Popen([sys.executable, str(SERVE), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    check = [sys.executable, str(SERVE), "--check", *(f"--{k}={v}" for k, v in ports.items())]
    deadline = time.monotonic() + 120
    while subprocess.run(check, capture_output=True).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"docker/serve.py did not become healthy:\n{proc.stdout.read()}")
        time.sleep(0.5)
    yield {"proc": proc, "ports": ports, "state": state, "check": check}
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_the_entry_point_passes_the_compose_health_check(served):
    assert subprocess.run(served["check"], capture_output=True).returncode == 0


def test_the_health_check_fails_when_nothing_listens():
    aws, invoke, workspace = free_ports(3)
    dead = [sys.executable, str(SERVE), "--check", f"--aws-port={aws}", f"--lambda-port={invoke}",
            f"--databricks-port={workspace}"]
    result = subprocess.run(dead, capture_output=True, text=True)
    assert result.returncode == 1 and "aws: URLError" in result.stdout


def test_the_workspace_answers_on_its_fixed_port_with_the_token_from_the_environment(served):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient(host=f"http://127.0.0.1:{served['ports']['databricks-port']}", token="dapi-serve-test-token",
                        auth_type="pat")
    assert list(w.clusters.list()), "the workspace starts with an all-purpose cluster"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("probe.py", HANDLER)
    return buffer.getvalue()


def test_lambdas_invoked_the_way_step_functions_local_does_see_the_stacks_routes(served):
    aws_port, invoke_port = served["ports"]["aws-port"], served["ports"]["lambda-port"]
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}", "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    iam, lam = aws_client("iam", env), aws_client("lambda", env)
    role = iam.create_role(RoleName="serve-probe", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName="serve-probe", Runtime="python3.11", Role=role, Handler="probe.handler",
                        Code={"ZipFile": _zip()})
    lam.get_waiter("function_active_v2").wait(FunctionName="serve-probe")

    # Step Functions Local POSTs to LAMBDA_ENDPOINT; an unsigned request is enough for this endpoint.
    request = urllib.request.Request(f"http://127.0.0.1:{invoke_port}/2015-03-31/functions/serve-probe/invocations",
                                     data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        seen = json.loads(response.read())

    assert seen["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566", "LocalStack by default"
    assert seen["AWS_ENDPOINT_URL_SFN"] == "http://127.0.0.1:8083", "Step Functions Local"
    assert seen["AWS_ENDPOINT_URL_S3"] == f"http://127.0.0.1:{aws_port}", "S3 stays with the Lambda runtime"


def test_the_invoke_endpoint_answers_other_routes_with_an_aws_shaped_404(served):
    request = urllib.request.Request(f"http://127.0.0.1:{served['ports']['lambda-port']}/health", data=b"",
                                     method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 404
    assert caught.value.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"


def test_sigterm_stops_the_servers_cleanly_and_removes_the_ready_file(served):
    ready = Path(served["state"]) / "ready.json"
    assert json.loads(ready.read_text())["lambda_invoke"].endswith(str(served["ports"]["lambda-port"]))
    served["proc"].send_signal(signal.SIGTERM)
    assert served["proc"].wait(timeout=60) == 0
    assert not ready.exists()
