"""Fakes for the bundle tests: one local AWS (Secrets Manager holds each target's token) and one fake
Databricks workspace per target, each with its own host, token and state, as in seed 004."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.clients import aws_client

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Targets:
    """Running workspaces by target name, and the environment that points the bundle commands at them."""

    workspaces: dict[str, object]
    env: dict[str, str]

    def job_names(self, target: str) -> list[str]:
        from databricks.sdk import WorkspaceClient

        ws = self.workspaces[target]
        client = WorkspaceClient(host=ws.host, token=ws.token, auth_type="pat")
        return sorted(j.settings.name for j in client.jobs.list())


@pytest.fixture(scope="session")
def bundle_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from sim.aws import AwsSimulator

    with AwsSimulator.start(state_dir=tmp_path_factory.mktemp("bundle-aws")) as aws:
        yield aws


@pytest.fixture(scope="session")
def bundle_targets(bundle_aws: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    """qa and prod: two fake workspaces; their tokens stored in Secrets Manager under the bundle's names."""
    from sim.databricks import Workspace

    started: dict[str, object] = {}
    env = {**bundle_aws.env, "DATABRICKS_CONFIG_FILE": "/dev/null"}
    sm = aws_client("secretsmanager", env)
    try:
        for target in ("qa", "prod"):
            ws = Workspace.start(state_dir=tmp_path_factory.mktemp(f"ws-{target}"), cluster_env=bundle_aws.env)
            started[target] = ws
            sm.create_secret(Name=f"stepbricks/{target}/databricks-token", SecretString=ws.token)
            env[f"DATABRICKS_HOST_{target.upper()}"] = ws.host
        yield Targets(started, env)
    finally:
        for ws in started.values():
            ws.stop()
