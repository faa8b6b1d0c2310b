"""A restart (even after SIGKILL) keeps jobs, runs and secrets; runs in flight end INTERNAL_ERROR."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from sim import clock

RESTART_MESSAGE_PART = "stopped while this run was in flight"


def _start(state_dir: Path, token: str) -> tuple[subprocess.Popen, str]:
    (state_dir / "host").unlink(missing_ok=True)
    env = {**os.environ, "DATABRICKS_TOKEN": token}
    process = subprocess.Popen([sys.executable, "-m", "sim.databricks", "--state-dir", str(state_dir)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = clock.now() + 60
    while not (state_dir / "host").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert clock.now() < deadline, "the workspace process did not write its host file"
        clock.sleep(0.05)
    return process, (state_dir / "host").read_text()


def _api(host: str, token: str, method: str, path: str, **kwargs) -> dict:
    response = requests.request(method, host + path, headers={"Authorization": f"Bearer {token}"}, timeout=10,
                                **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_sigkilled_server_restarts_with_its_jobs_runs_and_secrets(tmp_path: Path) -> None:
    token = "dapi" + "1" * 32
    process, host = _start(tmp_path, token)
    try:
        job_id = _api(host, token, "POST", "/api/2.1/jobs/create", json={"name": "kept", "tasks": [
            {"task_key": "main", "notebook_task": {"notebook_path": "/Shared/anything"}}]})["job_id"]
        _api(host, token, "POST", "/api/2.0/secrets/scopes/create", json={"scope": "s"})
        _api(host, token, "POST", "/api/2.0/secrets/put", json={"scope": "s", "key": "k", "string_value": "v"})
        # A slow start keeps the run in flight without needing a cluster.
        _api(host, token, "POST", "/api/2.0/stepbricks/faults",
             json={"kind": "task", "effect": "SLOW_START", "delay_seconds": 600})
        run_id = _api(host, token, "POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"]
        assert _api(host, token, "GET", "/api/2.1/jobs/runs/get",
                    params={"run_id": run_id})["state"]["life_cycle_state"] in ("PENDING", "RUNNING")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert (tmp_path / "token").read_text() == token and token not in process.stderr.read().decode()

    process, host = _start(tmp_path, token)
    try:
        assert _api(host, token, "GET", "/api/2.1/jobs/get", params={"job_id": job_id})["settings"]["name"] == "kept"
        run = _api(host, token, "GET", "/api/2.1/jobs/runs/get", params={"run_id": run_id})
        assert run["state"]["life_cycle_state"] == "INTERNAL_ERROR"
        assert RESTART_MESSAGE_PART in run["state"]["state_message"]
        assert run["status"]["state"] == "TERMINATED" and run["end_time"] > 0
        secret = _api(host, token, "GET", "/api/2.0/secrets/get", params={"scope": "s", "key": "k"})
        assert secret == {"key": "k", "value": "dg=="}  # base64("v")
        # Ids continue after the restart instead of reusing old ones.
        assert _api(host, token, "POST", "/api/2.1/jobs/create", json={"name": "new"})["job_id"] > job_id
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
