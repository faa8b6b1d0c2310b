"""Seed 002's Resonate world: the local promise server beside the seed's workspace
(tests/apps/seed_world.py), and the seed's FastAPI backend (`apps.resonate_backend.app`) as the backend
process, in its own Python 3.12 environment (.venv-resonate). tests/sim/resonate covers the virtual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.apps.seed_world import Backend, SeedWorld, started_backends
from tests.resonate_venv import resonate_python

APP = ("apps.resonate_backend.app:app",)


@dataclass(kw_only=True)
class World(SeedWorld):
    promises: Any  # sim.resonate.PromiseServer
    python: Path

    def promise(self, promise_id: str) -> dict:
        return requests.get(f"{self.promises.url}/promises/{promise_id}", timeout=10).json()

    def trigger_recorded(self, backend: Backend, run_id: str) -> bool:
        """The seed's `ctx.run(run_job)` step (the function's second child, `<id>.2`; its first is the
        promise the job resolves) is RESOLVED: Resonate re-runs a step only if its promise is pending."""
        return self.promise(f"{run_id}.2").get("state") == "RESOLVED"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from sim.databricks import Workspace
    from sim.resonate import PromiseServer

    python = resonate_python()
    with PromiseServer.start(state_dir=tmp_path_factory.mktemp("resonate")) as promises, Workspace.start(
        state_dir=tmp_path_factory.mktemp("ws")
    ) as ws:
        world = World(workspace=ws, promises=promises, python=python)
        world.install_seed_job("/Shared/resonate_backend")
        yield world


@pytest.fixture
def backend_for(world: World, tmp_path: Path) -> Iterator[Callable[[str], Backend]]:
    with started_backends(world.python, APP, tmp_path) as start:
        yield lambda job: start({**world.promises.env, **world.workspace.env, "JOB_ID": str(world.jobs[job])})
