"""`--backend` on the CLI refuses what a backend cannot do, with the reason, before touching anything."""

from __future__ import annotations

import socket

from rich.console import Console
from typer.testing import CliRunner

from harness.backends import DockerPorts
from harness.cli import app


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_on_the_external_backend_refuses_a_fault_plan(tmp_path, monkeypatch):
    monkeypatch.setattr("harness.cli.console", Console(width=240))
    plan = tmp_path / "plan.yaml"
    plan.write_text("faults: []\n")
    data = tmp_path / "in.csv"
    data.write_text("customer_id\n")
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-not-real")

    result = CliRunner().invoke(app, ["run", "--backend", "external", "--faults", str(plan), "--input", str(data)])

    assert result.exit_code == 2, result.output
    assert "fault plans on AWS services need the embedded simulator; backend is external" in result.output


def test_deploy_on_the_docker_backend_says_how_to_start_the_stack_when_it_is_down(monkeypatch):
    monkeypatch.setattr("harness.cli.console", Console(width=400))
    port = _closed_port()
    closed = DockerPorts(**{name: port for name in DockerPorts.__dataclass_fields__})
    monkeypatch.setattr("harness.backends.DockerPorts", lambda: closed)

    result = CliRunner().invoke(app, ["deploy", "--backend", "docker"])

    assert result.exit_code == 2, result.output
    assert "the Docker stack is not healthy" in result.output and "up -d --wait" in result.output
