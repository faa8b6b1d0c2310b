"""Seed 002's Resonate world: the local promise server, a fake workspace with the seed's job, and the seed's
FastAPI backend as a separate process in its own Python 3.12 environment (.venv-resonate), which a test
can kill and start again. All on the real clock: the backend and the job are processes the simulator's
virtual clock cannot see (tests/sim/resonate covers the virtual clock)."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.resonate_venv import ROOT, resonate_python

NOTEBOOK = ROOT / "apps" / "resonate_backend" / "notebooks" / "datapipeline.py"
NOTEBOOK_PATH = "/Shared/resonate_backend/datapipeline"


@dataclass
class World:
    promises: object  # sim.resonate.PromiseServer
    workspace: object  # sim.databricks.Workspace
    python: Path
    jobs: dict[str, int] = field(default_factory=dict)

    def dbx(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        r = requests.request(method, f"{self.workspace.host}{path}", json=body, params=query, timeout=30,
                             headers={"Authorization": f"Bearer {self.workspace.token}"})  # fmt: skip
        r.raise_for_status()
        return r.json()

    def runs(self, job_id: int) -> list[dict]:
        return self.dbx("GET", "/api/2.1/jobs/runs/list", query={"job_id": job_id}).get("runs", [])

    def promise(self, promise_id: str) -> dict:
        return requests.get(f"{self.promises.url}/promises/{promise_id}", timeout=10).json()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from sim.databricks import Workspace
    from sim.resonate import PromiseServer

    python = resonate_python()
    with PromiseServer.start(state_dir=tmp_path_factory.mktemp("resonate")) as promises, Workspace.start(
        state_dir=tmp_path_factory.mktemp("ws")
    ) as ws:
        world = World(promises, ws, python)
        world.dbx("POST", "/api/2.0/workspace/mkdirs", {"path": NOTEBOOK_PATH.rsplit("/", 1)[0]})
        world.dbx("POST", "/api/2.0/workspace/import", {"path": NOTEBOOK_PATH, "format": "SOURCE", "language": "PYTHON",
                  "content": base64.b64encode(NOTEBOOK.read_bytes()).decode(), "overwrite": True})  # fmt: skip
        cluster = world.dbx("GET", "/api/2.1/clusters/list")["clusters"][0]["cluster_id"]
        for name, hold in (("quick", "0"), ("slow", "8")):
            world.jobs[name] = world.dbx("POST", "/api/2.1/jobs/create", {"name": f"resonate-{name}", "tasks": [{
                "task_key": "datapipeline", "existing_cluster_id": cluster,
                "notebook_task": {"notebook_path": NOTEBOOK_PATH, "base_parameters": {"hold_seconds": hold}}}]})["job_id"]  # fmt: skip
        yield world


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """`uvicorn apps.resonate_backend.app:app` in .venv-resonate on a fixed loopback port, restartable."""

    def __init__(self, python: Path, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.python, self.env, self.port, self.log_dir = python, env, port, log_dir
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Backend:
        self.starts += 1
        log = (self.log_dir / f"backend-{self.port}-{self.starts}.log").open("w")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "uvicorn", "apps.resonate_backend.app:app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, **self.env, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the backend exited with {self.proc.returncode}: {self.logs()}"
            try:
                requests.get(f"{self.url}/openapi.json", timeout=2).raise_for_status()
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AssertionError("the backend did not start within 60 s")

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob(f"backend-{self.port}-*.log")))

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def run(self, run_id: str) -> str:
        return requests.get(f"{self.url}/run", params={"id": run_id, "url": self.url}, timeout=30).json()

    def resolve(self, promise_id: str, value: str) -> requests.Response:
        return requests.post(f"{self.url}/resolve", params={"id": promise_id, "value": value}, timeout=30)

    def wait_done(self, run_id: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        answer = ""
        while time.monotonic() < deadline:
            answer = self.run(run_id)
            if answer != "working on it":
                return answer
            time.sleep(0.5)
        raise AssertionError(f"pipeline {run_id} still says {answer!r} after {timeout} s:\n{self.logs()}")


@pytest.fixture
def backend_for(world: World, tmp_path: Path) -> Iterator[callable]:
    started: list[Backend] = []

    def make(job: str) -> Backend:
        env = {**world.promises.env, **world.workspace.env, "JOB_ID": str(world.jobs[job])}
        backend = Backend(world.python, env, free_port(), tmp_path)
        started.append(backend)
        return backend.start()

    yield make
    for backend in started:
        backend.kill()
