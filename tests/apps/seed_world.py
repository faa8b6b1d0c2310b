"""What both of seed 002's backends are tested with: a fake workspace holding the seed's job (its notebook
resolves the backend's promise through `POST /resolve`) and the backend as a separate uvicorn process that a
test can kill and start again. Each backend's conftest adds only what differs: the durable side (Step
Functions or the Resonate promise server), the app it runs and that app's configuration.

All on the real clock: the backend and the job are processes the simulator's virtual clock cannot see.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.app_process import AppProcess, AppProcessError

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "apps" / "notebooks" / "datapipeline.py"  # seed 002's job, shared by both backends
HOLDS = {"quick": 0, "slow": 8}  # seconds the job works: "slow" leaves time to kill the backend mid-run


@dataclass
class SeedWorld:
    """The fake workspace with the seed's job, one per `HOLDS` entry (`jobs[name]` is its id)."""

    workspace: Any  # sim.databricks.Workspace
    jobs: dict[str, int] = field(default_factory=dict)

    def dbx(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        r = requests.request(method, f"{self.workspace.host}{path}", json=body, params=query, timeout=30,
                             headers={"Authorization": f"Bearer {self.workspace.token}"})  # fmt: skip
        r.raise_for_status()
        return r.json()

    def runs(self, job_id: int) -> list[dict]:
        return self.dbx("GET", "/api/2.1/jobs/runs/list", query={"job_id": job_id}).get("runs", [])

    def wait_for_run(self, job_id: int, count: int = 1, timeout: float = 60) -> dict:
        """The newest run once the job has `count` runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs(job_id)
            if len(runs) >= count:
                return runs[0]
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} has no run #{count} after {timeout} s")

    def only_run(self, job: str, timeout: float = 60) -> dict:
        """The job's one run, which succeeded: a second trigger would have made a second run.

        Waits for the run to end: its notebook resolves the promise before it returns, so the function can
        finish while the run is still RUNNING (no `result_state` yet), as on Databricks."""
        deadline = time.monotonic() + timeout
        runs = self.runs(self.jobs[job])
        while len(runs) == 1 and "result_state" not in runs[0]["state"] and time.monotonic() < deadline:
            time.sleep(0.2)
            runs = self.runs(self.jobs[job])
        assert len(runs) == 1 and runs[0]["state"].get("result_state") == "SUCCESS", runs
        return runs[0]

    def trigger_recorded(self, backend: Backend, run_id: str) -> bool:
        """Whether the backend's durable side has recorded that it triggered `run_id`'s job (each world says
        how). Both backends trigger at least once: one killed between `run-now` and that record triggers
        the job again when it comes back, so a crash meant to leave one run waits for the record."""
        raise NotImplementedError

    def crash_while_the_job_runs(self, backend: Backend, run_id: str, job: str = "slow", timeout: float = 60) -> None:
        """`/run`, then SIGKILL the backend once the job has a run the backend has recorded as triggered,
        and before that run ends."""
        assert backend.run(run_id) == "working on it"
        run = self.wait_for_run(self.jobs[job])
        deadline = time.monotonic() + timeout
        while not self.trigger_recorded(backend, run_id):
            assert time.monotonic() < deadline, f"{run_id}: the trigger of run {run['run_id']} was never recorded"
            time.sleep(0.1)
        backend.kill()
        state = self.dbx("GET", "/api/2.1/jobs/runs/get", query={"run_id": run["run_id"]})["state"]
        assert state["life_cycle_state"] in ("QUEUED", "PENDING", "RUNNING"), state  # the crash is mid-run
        with pytest.raises(requests.ConnectionError):
            backend.run(run_id)

    def notebook_result(self, run: dict) -> str:
        """What the run's (single) notebook task exited with."""
        task = self.dbx("GET", "/api/2.1/jobs/runs/get", query={"run_id": run["run_id"]})["tasks"][0]
        return self.dbx("GET", "/api/2.1/jobs/runs/get-output", query={"run_id": task["run_id"]})["notebook_output"]["result"]

    def install_seed_job(self, folder: str) -> None:
        """Import the seed's notebook under `folder` and create its jobs on the workspace's cluster."""
        path = f"{folder}/datapipeline"
        self.dbx("POST", "/api/2.0/workspace/mkdirs", {"path": folder})
        self.dbx("POST", "/api/2.0/workspace/import", {"path": path, "format": "SOURCE", "language": "PYTHON",
                 "content": base64.b64encode(NOTEBOOK.read_bytes()).decode(), "overwrite": True})  # fmt: skip
        cluster = self.dbx("GET", "/api/2.1/clusters/list")["clusters"][0]["cluster_id"]
        for name, hold in HOLDS.items():
            self.jobs[name] = self.dbx("POST", "/api/2.1/jobs/create", {"name": f"{folder.rsplit('/', 1)[-1]}-{name}", "tasks": [{
                "task_key": "datapipeline", "existing_cluster_id": cluster,
                "notebook_task": {"notebook_path": path, "base_parameters": {"hold_seconds": str(hold)}}}]})["job_id"]  # fmt: skip


class Backend(AppProcess):
    """A seed backend's process (harness.app_process), asked as the seed's trigger asks: `/run`, `/resolve`."""

    def start(self) -> Backend:  # type: ignore[override]
        try:
            return super().start()
        except AppProcessError as exc:
            raise AssertionError(str(exc)) from None

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


@contextmanager
def started_backends(python: Path | str, app: Sequence[str], log_dir: Path) -> Iterator[Callable[[Mapping[str, str]], Backend]]:
    """`start(env)` starts a backend with `env`; every backend started is killed on the way out."""
    started: list[Backend] = []

    def start(env: Mapping[str, str]) -> Backend:
        backend = Backend(python, app, env, log_dir)
        started.append(backend)
        return backend.start()

    try:
        yield start
    finally:
        for backend in started:
            backend.kill()
