"""The `stepbricks bundle …` / `stepbricks approve` commands, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.cli_bundle import approve, bundle_app
from tests.harness.bundles.bundle_factory import MINIMAL, write_bundle
from tests.harness.bundles.conftest import Targets

pytestmark = pytest.mark.xdist_group("bundle_targets")

app = typer.Typer()
app.add_typer(bundle_app, name="bundle")
app.command("approve")(approve)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle", MINIMAL)


def test_validate_prints_the_resolved_target(demo: Path) -> None:
    result = CliRunner().invoke(app, ["bundle", "validate", "--root", str(demo), "-t", "qa", "--output", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["target"] == "qa"
    assert summary["jobs"]["hello"]["tasks"][0]["notebook_task"]["notebook_path"].endswith("/qa/files/src/hello")


def test_validate_fails_naming_file_key_and_problem(demo: Path) -> None:
    (demo / "resources" / "jobs.yml").write_text((demo / "resources" / "jobs.yml").read_text().replace("task_key: hello", "task_kee: hello"))
    result = CliRunner().invoke(app, ["bundle", "validate", "--root", str(demo)])
    assert result.exit_code == 1
    assert "resources.jobs.hello.tasks[0].task_kee: unknown field" in result.output
    assert "resources.jobs.hello.tasks[0].task_key: is required" in result.output


def test_malformed_var_flag_is_rejected(demo: Path) -> None:
    result = CliRunner().invoke(app, ["bundle", "validate", "--root", str(demo), "--var", "greeting"])
    assert result.exit_code == 1 and "expected name=value" in result.output


def test_deploy_run_and_destroy_through_the_cli(demo: Path, bundle_targets: Targets, tmp_path: Path) -> None:
    runner = CliRunner(env=bundle_targets.env)
    common = ["--root", str(demo), "-t", "prod", "--state-dir", str(tmp_path / "state")]
    deployed = runner.invoke(app, ["bundle", "deploy", *common])
    assert deployed.exit_code == 0, deployed.output
    assert sorted(json.loads(deployed.stdout)["created"]) == ["after", "hello"]
    missing = runner.invoke(app, ["bundle", "run", "nope", *common])
    assert missing.exit_code == 1 and "resources.jobs.nope: no such job (jobs: hello, after)" in missing.output
    destroyed = runner.invoke(app, ["bundle", "destroy", *common, "--auto-approve"])
    assert destroyed.exit_code == 0, destroyed.output
    assert sorted(json.loads(destroyed.stdout)["deleted"]) == ["after", "hello"]


def test_approve_writes_a_record_for_the_current_bundle(demo: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["approve", "--root", str(demo), "--target", "prod", "--approver", "lead",
                                      "--state-dir", str(tmp_path / "state")])  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["target"] == "prod" and record["approver"] == "lead" and len(record["digest"]) == 64
    assert (tmp_path / "state" / "approvals" / "prod.json").exists()
