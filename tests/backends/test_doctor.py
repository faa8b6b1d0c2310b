"""`stepbricks doctor` against the session's simulator, and against half-configured environments."""

from __future__ import annotations

import socket

import pytest
from rich.console import Console
from typer.testing import CliRunner

from harness.cli import app
from harness.doctor import diagnose

CHECKS = {
    "credentials (STS)", "S3 buckets CRUD", "SNS publish", "SQS send/receive", "Secrets Manager", "IAM roles",
    "Lambda create + invoke", "Step Functions create + execute", "Databricks jobs API + a cluster", "MLflow tracking",
}


@pytest.fixture
def wide_console(monkeypatch):
    """Rows on one line each, so the output can be read as text."""
    monkeypatch.setattr("harness.cli.console", Console(width=240))


@pytest.fixture(scope="module")
def healthy(stepbricks):
    return diagnose(stepbricks.env)


def test_every_check_passes_against_a_running_simulator(healthy):
    assert {r.check for r in healthy} == CHECKS
    assert [(r.check, r.detail) for r in healthy if not r.ok] == []


def test_the_checks_report_what_they_really_did(healthy):
    details = {r.check: r.detail for r in healthy}
    assert details["Step Functions create + execute"].endswith("(SUCCEEDED)")
    assert "cluster(s)" in details["Databricks jobs API + a cluster"]


def test_the_doctor_leaves_no_resources_behind(stepbricks, healthy):
    buckets = [b["Name"] for b in stepbricks.client("s3").list_buckets()["Buckets"]]
    functions = [f["FunctionName"] for f in stepbricks.client("lambda").list_functions()["Functions"]]
    assert not [n for n in buckets + functions if n.startswith("stepbricks-doctor")]


def test_without_databricks_host_only_the_databricks_row_fails_and_says_so(stepbricks):
    env = {k: v for k, v in stepbricks.env.items() if k != "DATABRICKS_HOST"}

    results = {r.check: r for r in diagnose(env)}

    row = results.pop("Databricks jobs API + a cluster")
    assert not row.ok and row.detail == "DATABRICKS_HOST not set"
    assert row.endpoint == "(DATABRICKS_HOST unset)"
    assert all(r.ok for r in results.values()), {k: r.detail for k, r in results.items() if not r.ok}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_service_endpoint_is_reported_unreachable_with_its_url(stepbricks):
    dead = f"http://127.0.0.1:{_closed_port()}"
    env = {**stepbricks.env, "AWS_ENDPOINT_URL_SQS": dead, "MLFLOW_TRACKING_URI": dead}

    results = {r.check: r for r in diagnose(env)}

    assert results["SQS send/receive"].detail.startswith("unreachable") and dead in results["SQS send/receive"].endpoint
    assert results["MLflow tracking"].detail.startswith("unreachable")
    assert results["SNS publish"].ok


def test_the_command_exits_0_with_a_table_and_never_prints_the_token(stepbricks, monkeypatch, wide_console):
    for key, value in stepbricks.env.items():
        monkeypatch.setenv(key, value)

    result = CliRunner().invoke(app, ["doctor", "--backend", "external"])

    assert result.exit_code == 0, result.output
    assert "stepbricks doctor" in result.output and "FAIL" not in result.output
    assert stepbricks.env["DATABRICKS_TOKEN"] not in result.output


def test_the_command_exits_1_and_names_the_failed_check_when_half_configured(stepbricks, monkeypatch, wide_console):
    for key, value in stepbricks.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABRICKS_HOST")

    result = CliRunner().invoke(app, ["doctor", "--backend", "external"])

    assert result.exit_code == 1
    assert "1 required check(s) failed: Databricks jobs API + a cluster" in result.output
    assert "DATABRICKS_HOST not set" in result.output
