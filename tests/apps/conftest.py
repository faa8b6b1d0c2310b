"""The callback backend's world: local AWS (Step Functions, SQS, SNS) beside the seed's workspace
(tests/apps/seed_world.py), and `apps.callback_backend` as the backend process."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.apps.seed_world import Backend, SeedWorld, started_backends

APP = ("apps.callback_backend.app:create_app", "--factory")


@dataclass(kw_only=True)
class World(SeedWorld):
    aws: Any  # sim.aws.AwsSimulator
    env: dict[str, str]

    def trigger_recorded(self, backend: Backend, run_id: str) -> bool:
        """The trigger message is deleted (the worker deletes it once `run-now` answered): called once the
        job has a run, so the message was sent and taken, and an empty queue means it is gone."""
        sqs = self.aws.client("sqs")
        url = sqs.get_queue_url(QueueName=f"{backend.env['CALLBACK_PREFIX']}-jobs")["QueueUrl"]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]  # fmt: skip
        return all(int(n) == 0 for n in counts.values())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # Private, not the session `stepbricks` simulator: the backend and its job run on the real clock (the
    # session simulator's is virtual and would skip the callback's waits) and SNS is read whole.
    from sim.aws import AwsSimulator
    from sim.databricks import Workspace

    with AwsSimulator.start(state_dir=tmp_path_factory.mktemp("aws")) as aws, Workspace.start(
        state_dir=tmp_path_factory.mktemp("ws"), cluster_env=aws.env
    ) as ws:
        world = World(workspace=ws, aws=aws, env={**aws.env, "DATABRICKS_HOST": ws.host, "DATABRICKS_TOKEN": ws.token})
        world.install_seed_job("/Shared/callback_backend")
        yield world


@pytest.fixture
def backend_for(world: World, tmp_path: Path) -> Iterator[Callable[[str], Backend]]:
    with started_backends(sys.executable, APP, tmp_path) as start:
        yield lambda job: start({**world.env, "JOB_ID": str(world.jobs[job]), "CALLBACK_PREFIX": f"cb-{job}"})
