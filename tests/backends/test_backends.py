"""harness.backends: what each backend means, in the standard variables of docs/contracts.md."""

from __future__ import annotations

import socket
import sys

import pytest

from harness.backends import (
    BACKENDS,
    DOCKER_DEFAULT_TOKEN,
    DOCKER_ROUTES,
    DOCKER_TOKEN_VAR,
    BackendError,
    DockerPorts,
    docker_env,
    docker_health,
    external_env,
    open_backend,
)
from harness.clients import endpoint_for


def test_the_three_backends_are_embedded_external_and_docker_with_embedded_first():
    assert BACKENDS == ("embedded", "external", "docker")


def test_external_backend_names_every_missing_databricks_variable():
    with pytest.raises(BackendError, match="DATABRICKS_HOST, DATABRICKS_TOKEN"):
        external_env({"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})


def test_external_backend_takes_the_environment_as_it_is():
    environ = {"DATABRICKS_HOST": "http://h", "DATABRICKS_TOKEN": "t", "AWS_ENDPOINT_URL_SFN": "http://sfn"}
    assert external_env(environ) == environ


def test_docker_env_sends_each_aws_api_where_the_routes_say_and_the_rest_to_localstack():
    env = docker_env(DockerPorts(), environ={})
    assert endpoint_for("s3", env) == "http://127.0.0.1:4510"
    assert endpoint_for("lambda", env) == "http://127.0.0.1:4510"
    assert endpoint_for("iam", env) == "http://127.0.0.1:4510"
    assert endpoint_for("stepfunctions", env) == "http://127.0.0.1:8083"
    for service in ("sns", "sqs", "secretsmanager"):
        assert endpoint_for(service, env) == "http://127.0.0.1:4566"
    assert env["DATABRICKS_HOST"] == "http://127.0.0.1:8079"
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5050"
    assert set(DOCKER_ROUTES) <= {k.removeprefix("AWS_ENDPOINT_URL_") for k in env if k.startswith("AWS_ENDPOINT_URL_")}


def test_docker_env_uses_the_published_ports_it_is_given():
    env = docker_env(DockerPorts(localstack=14566, databricks=18079), environ={})
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:14566"
    assert env["DATABRICKS_HOST"] == "http://127.0.0.1:18079"


def test_docker_token_comes_from_its_variable_else_the_local_default():
    assert docker_env(environ={})["DATABRICKS_TOKEN"] == DOCKER_DEFAULT_TOKEN
    assert docker_env(environ={DOCKER_TOKEN_VAR: "dapi-mine"})["DATABRICKS_TOKEN"] == "dapi-mine"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_docker_health_says_why_each_service_is_not_ready():
    port = _closed_port()
    ports = DockerPorts(**{name: port for name in DockerPorts.__dataclass_fields__})
    health = docker_health(docker_env(ports, environ={}))
    assert set(health) == {"localstack", "stepfunctions", "stepbricks", "mlflow"}
    assert all(reason for reason in health.values()), health


def test_opening_the_docker_backend_without_a_running_stack_says_how_to_start_it():
    port = _closed_port()
    ports = {name: port for name in DockerPorts.__dataclass_fields__}
    with pytest.raises(BackendError, match=r"docker compose -f .*docker-compose\.yml up -d --wait"), \
            pytest.MonkeyPatch.context() as mp:
        mp.setattr("harness.backends.DockerPorts", lambda: DockerPorts(**ports))
        with open_backend("docker", environ={}):
            pass


def test_a_fault_plan_on_a_non_embedded_backend_is_refused_not_ignored():
    with pytest.raises(BackendError, match="fault plans on AWS services need the embedded simulator"), \
            open_backend("external", environ={"DATABRICKS_HOST": "h", "DATABRICKS_TOKEN": "t"}, fault_plan=object()):
        pass


def test_a_flight_that_trains_asks_the_embedded_simulator_to_import_its_ml_libraries_early(monkeypatch):
    """`open_backend(trains=True)` (what `stepbricks run` opens) reaches `Simulator.start(warm_libraries=True)`."""
    from contextlib import contextmanager

    from sim.simulator import Simulator

    asked: list[bool] = []

    @contextmanager
    def start(**options):
        asked.append(options["warm_libraries"])
        yield type("Started", (), {"env": {}})()

    monkeypatch.setattr(Simulator, "start", start)
    for trains in (True, False):
        with open_backend("embedded", environ={}, trains=trains):
            pass
    assert asked == [True, False]


def test_an_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(BackendError, match="embedded, external, docker"), open_backend("cloud"):
        pass


FAKE_COMPOSE = '''import sys
args = sys.argv[1:]
with open({log!r}, "a") as fh:
    fh.write(" ".join(args) + "\\n")
if "port" in args:
    print("127.0.0.1:" + args[-1])  # published under the container's own number, as the compose file does
'''


def test_the_docker_stack_is_brought_up_waited_on_and_taken_down_through_pytest_docker(tmp_path):
    log = tmp_path / "compose.log"
    script = tmp_path / "fake_compose.py"
    script.write_text(FAKE_COMPOSE.format(log=str(log)))
    from harness.backends import docker_stack

    # Nothing answers the health URLs, so the wait gives up; the stack must still be taken down.
    with pytest.raises(Exception, match="Timeout reached while waiting on service"), \
            docker_stack(compose_command=f"{sys.executable} {script}", project="sbtest", timeout_s=0.5):
        pass

    calls = log.read_text().splitlines()
    assert calls[0].endswith("-p sbtest up --build --wait") and "docker-compose.yml" in calls[0]
    assert {c.split(" port ")[1] for c in calls if " port " in c} == {
        "localstack 4566", "stepfunctions 8083", "stepbricks 4510", "stepbricks 4511", "stepbricks 8079", "mlflow 5050"}
    assert calls[-1].endswith("down -v")
