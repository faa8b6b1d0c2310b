"""One simulator with seed 003's lab deployed, for the folder (its Glue cluster's Spark starts once)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.glue_lab import LabDeployment, LabRun, deploy_lab, run_upload
from sim.faults import FaultPlan
from sim.simulator import Simulator


@dataclass
class Lab:
    sim: Simulator
    env: dict[str, str]
    deployment: LabDeployment
    plan: FaultPlan

    def upload(self, key: str, body: bytes) -> LabRun:
        return run_upload(self.env, self.deployment, key, body, notifications=self.sim.aws.sns_messages)

    def client(self, service: str) -> Any:
        return self.sim.aws.client(service)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    plan = FaultPlan()
    with Simulator.start(databricks=False, fault_plan=plan) as sim:
        env = {**os.environ, **sim.env}
        yield Lab(sim=sim, env=env, deployment=deploy_lab(env), plan=plan)


@pytest.fixture(autouse=True)
def no_faults_left(lab: Lab) -> Iterator[None]:
    yield
    lab.plan.faults.clear()
