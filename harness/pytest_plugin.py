"""stepbricks' pytest plugin (registered through the `pytest11` entry point).

Thin and session-warm, like pytest-httpserver: the costly simulator (moto, fake workspace, Spark cluster)
starts once per test session; per-test fixtures only reset faults. Tests use the same fixtures whatever
the backend: `embedded` (the in-process simulator) or `external` (endpoints from the environment).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

BACKENDS = ("embedded", "external")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stepbricks")
    group.addoption(
        "--stepbricks-backend",
        choices=BACKENDS,
        default=os.environ.get("STEPBRICKS_BACKEND", "embedded"),
        help="embedded: start the simulator in-process (default); external: use the endpoints in the "
        "environment (AWS_ENDPOINT_URL, DATABRICKS_HOST/TOKEN, MLFLOW_*), e.g. another `stepbricks up`.",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in (
        "e2e: flies the whole pipeline through the simulator",
        "simulator_only: needs a feature only the embedded simulator offers (skipped on external backends)",
    ):
        config.addinivalue_line("markers", marker)


@dataclass
class StepbricksSession:
    """What a test gets: the backend's environment and, when embedded, the simulator itself."""

    backend: str
    env: dict[str, str]
    simulator: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        from harness.clients import aws_client

        if service not in self._clients:
            self._clients[service] = aws_client(service, self.env)
        return self._clients[service]

    def workspace(self) -> Any:
        from harness.clients import workspace_client

        return workspace_client(self.env)

    def require_simulator(self, feature: str) -> Any:
        """Skip (never silently pass) when the backend cannot offer `feature`."""
        if self.simulator is None:
            pytest.skip(f"{feature} needs the embedded simulator; backend is {self.backend}")
        return self.simulator

    def sns_messages(self, topic_arn: str | None = None) -> list[dict]:
        return self.require_simulator("reading published SNS messages").aws.sns_messages(topic_arn)

    def reset(self) -> None:
        if self.simulator is not None and self.simulator.databricks is not None:
            self.simulator.databricks.faults.reset()


@pytest.fixture(scope="session")
def stepbricks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StepbricksSession]:
    backend = request.config.getoption("--stepbricks-backend")
    if backend == "external":
        env = _external_env(os.environ)
        yield StepbricksSession(backend=backend, env=env)
        return
    from sim.simulator import Simulator

    with Simulator.start(state_dir=tmp_path_factory.mktemp("stepbricks-state")) as sim:
        yield StepbricksSession(backend=backend, env={**_aws_defaults(), **sim.env}, simulator=sim)


@pytest.fixture(autouse=True)
def _stepbricks_reset(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults never leak from one test into the next."""
    yield
    if "stepbricks" in request.fixturenames:
        request.getfixturevalue("stepbricks").reset()


@pytest.fixture(scope="session")
def deployed_pipeline(stepbricks: StepbricksSession) -> Any:
    """The reference pipeline deployed once per session into the backend (idempotent deploy)."""
    from harness.deploy import DeployConfig, deploy

    prefix = os.environ.get("STEPBRICKS_TEST_PREFIX", "")
    return deploy(stepbricks.env, DeployConfig(prefix=prefix, poll_seconds=1))


def _aws_defaults() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _external_env(environ: Mapping[str, str]) -> dict[str, str]:
    missing = [v for v in ("DATABRICKS_HOST", "DATABRICKS_TOKEN") if not environ.get(v)]
    if missing:
        raise pytest.UsageError(f"--stepbricks-backend=external needs {', '.join(missing)} in the environment")
    return dict(environ)
