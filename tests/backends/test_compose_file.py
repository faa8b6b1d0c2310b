"""docker-compose.yml and the Dockerfile checked against the code that uses them (no Docker engine runs
here, so this is what can be proven without one: see docs/backends.md)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from harness.backends import (
    COMPOSE_FILE,
    COMPOSE_SERVICES,
    DOCKER_DEFAULT_TOKEN,
    DOCKER_TOKEN_VAR,
    DockerPorts,
)

ROOT = COMPOSE_FILE.parent
PORTS = DockerPorts()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _published(service: dict) -> list[tuple[str, int, int]]:
    out = []
    for spec in service.get("ports", []):
        host_ip, host_port, container_port = str(spec).split(":")
        out.append((host_ip, int(host_port), int(container_port)))
    return out


def _flags(service: dict) -> dict[str, str]:
    return dict(arg.removeprefix("--").split("=", 1) for arg in service.get("command", []) if "=" in arg)


def test_every_service_the_code_expects_exists(compose):
    assert set(compose["services"]) == set(COMPOSE_SERVICES)


def test_each_service_publishes_its_ports_on_loopback_only_under_the_same_number(compose):
    for name, fields in COMPOSE_SERVICES.items():
        published = _published(compose["services"][name])
        assert {p for _, p, _ in published} == {getattr(PORTS, f) for f in fields}, name
        for host_ip, host_port, container_port in published:
            assert host_ip == "127.0.0.1", f"{name} publishes {host_port} beyond loopback"
            assert host_port == container_port, f"{name}: a URL must mean the same inside and outside"


def test_every_service_has_a_health_check_and_dependents_wait_for_it(compose):
    services = compose["services"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} starts before {dependency} is healthy"


def test_localstack_is_pinned_to_the_last_tag_without_an_auth_token_and_runs_the_pipelines_services(compose):
    localstack = compose["services"]["localstack"]
    assert localstack["image"] == "localstack/localstack:4.14"
    assert set(localstack["environment"]["SERVICES"].split(",")) >= {"s3", "sns", "sqs", "secretsmanager", "iam", "sts"}
    hook = localstack["volumes"][0].split(":")[0]
    assert (ROOT / hook).is_file() and "stepbricks-mlflow" in (ROOT / hook).read_text()


def test_step_functions_local_calls_stepbricks_lambda_invoke_endpoint_and_localstack(compose):
    env = compose["services"]["stepfunctions"]["environment"]
    assert compose["services"]["stepfunctions"]["image"].startswith("amazon/aws-stepfunctions-local")
    assert env["LAMBDA_ENDPOINT"] == f"http://stepbricks:{PORTS.lambda_invoke}"
    assert env["SNS_ENDPOINT"] == env["SQS_ENDPOINT"] == f"http://localstack:{PORTS.localstack}"
    # ARNs deploy builds from STS (served by stepbricks' moto) must match the ones SFN Local hands out.
    assert env["AWS_ACCOUNT_ID"] == "123456789012"


def test_the_stepbricks_service_runs_the_entry_point_with_the_ports_and_routes_the_code_uses(compose):
    service = compose["services"]["stepbricks"]
    flags = _flags(service)
    assert int(flags["aws-port"]) == PORTS.aws
    assert int(flags["lambda-port"]) == PORTS.lambda_invoke
    assert int(flags["databricks-port"]) == PORTS.databricks
    assert flags["localstack"] == f"http://localstack:{PORTS.localstack}"
    assert flags["stepfunctions"] == f"http://stepfunctions:{PORTS.stepfunctions}"
    assert flags["mlflow"] == f"http://mlflow:{PORTS.mlflow}"
    assert flags["host"] == "0.0.0.0"
    assert service["environment"][DOCKER_TOKEN_VAR] == f"${{{DOCKER_TOKEN_VAR}:-{DOCKER_DEFAULT_TOKEN}}}"
    check = service["healthcheck"]["test"]
    assert check[:4] == ["CMD", "python", "/app/docker/serve.py", "--check"]


def test_mlflow_serves_artifacts_from_localstack_s3_on_its_port(compose):
    service = compose["services"]["mlflow"]
    flags = _flags(service)
    assert int(flags["port"]) == PORTS.mlflow
    assert flags["artifacts-destination"] == "s3://stepbricks-mlflow/"
    assert service["environment"]["MLFLOW_S3_ENDPOINT_URL"] == f"http://localstack:{PORTS.localstack}"
    assert f"mlflow:{PORTS.mlflow}" in flags["allowed-hosts"].split(",")


def test_the_dockerfile_entry_point_is_the_script_the_compose_file_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile, re.M)
    assert entrypoint and yaml.safe_load(entrypoint[1]) == ["python", "/app/docker/serve.py"]
    assert (ROOT / "docker" / "serve.py").is_file()
    exposed = {int(p) for p in re.search(r"^EXPOSE (.*)$", dockerfile, re.M)[1].split()}
    assert exposed == {PORTS.aws, PORTS.lambda_invoke, PORTS.databricks}
    assert "openjdk-17" in dockerfile, "Spark needs Java 17+"


def test_the_build_context_leaves_out_local_state_and_virtualenvs():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".stepbricks"} <= set(ignored)


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_itself_accepts_the_file_when_a_compose_client_is_installed():
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no Docker Compose client here (the docker CLI lacks the compose plugin)")
    result = subprocess.run([*cli, "-f", str(COMPOSE_FILE), "config", "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, f"{shlex.join(cli)} config: {result.stderr}"

