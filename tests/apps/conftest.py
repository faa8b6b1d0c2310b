"""The callback backend's world: local AWS (Step Functions, SQS, SNS), a fake workspace with the seed's
job, and the backend itself as a separate uvicorn process that a test can kill and start again."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "apps" / "callback_backend" / "notebooks" / "datapipeline.py"
NOTEBOOK_PATH = "/Shared/callback_backend/datapipeline"


@dataclass
class World:
    aws: object
    workspace: object
    env: dict[str, str]
    jobs: dict[str, int] = field(default_factory=dict)

    def dbx(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        r = requests.request(method, f"{self.workspace.host}{path}", json=body, params=query, timeout=30,
                             headers={"Authorization": f"Bearer {self.workspace.token}"})  # fmt: skip
        r.raise_for_status()
        return r.json()

    def runs(self, job_id: int) -> list[dict]:
        return self.dbx("GET", "/api/2.1/jobs/runs/list", query={"job_id": job_id}).get("runs", [])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # Private, not the session `stepbricks` simulator: the backend and its job run on the real clock (the
    # session simulator's is virtual and would skip the callback's waits) and SNS is read whole.
    from sim.aws import AwsSimulator
    from sim.databricks import Workspace

    with AwsSimulator.start(state_dir=tmp_path_factory.mktemp("aws")) as aws, Workspace.start(
        state_dir=tmp_path_factory.mktemp("ws"), cluster_env=aws.env
    ) as ws:
        world = World(aws, ws, {**aws.env, "DATABRICKS_HOST": ws.host, "DATABRICKS_TOKEN": ws.token})
        world.dbx("POST", "/api/2.0/workspace/mkdirs", {"path": NOTEBOOK_PATH.rsplit("/", 1)[0]})
        world.dbx("POST", "/api/2.0/workspace/import", {"path": NOTEBOOK_PATH, "format": "SOURCE", "language": "PYTHON",
                  "content": base64.b64encode(NOTEBOOK.read_bytes()).decode(), "overwrite": True})  # fmt: skip
        cluster = world.dbx("GET", "/api/2.1/clusters/list")["clusters"][0]["cluster_id"]
        for name, hold in (("quick", "0"), ("slow", "6")):
            world.jobs[name] = world.dbx("POST", "/api/2.1/jobs/create", {"name": f"datapipeline-{name}", "tasks": [{
                "task_key": "datapipeline", "existing_cluster_id": cluster,
                "notebook_task": {"notebook_path": NOTEBOOK_PATH, "base_parameters": {"hold_seconds": hold}}}]})["job_id"]  # fmt: skip
        yield world


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """`uvicorn apps.callback_backend.app:create_app --factory` on a fixed loopback port, restartable."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Backend:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "apps.callback_backend.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, **self.env, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the backend exited with {self.proc.returncode}"
            try:
                requests.get(f"{self.url}/openapi.json", timeout=2).raise_for_status()
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError("the backend did not start within 60 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def run(self, run_id: str) -> str:
        return requests.get(f"{self.url}/run", params={"id": run_id, "url": self.url}, timeout=30).json()

    def wait_done(self, run_id: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        answer = ""
        while time.monotonic() < deadline:
            answer = self.run(run_id)
            if answer != "working on it":
                return answer
            time.sleep(0.5)
        raise AssertionError(f"pipeline {run_id} still says {answer!r} after {timeout} s")


@pytest.fixture
def backend_for(world: World) -> Iterator[callable]:
    started: list[Backend] = []

    def make(job: str) -> Backend:
        backend = Backend({**world.env, "JOB_ID": str(world.jobs[job]), "CALLBACK_PREFIX": f"cb-{job}"}, free_port())
        started.append(backend)
        return backend.start()

    yield make
    for backend in started:
        backend.kill()
