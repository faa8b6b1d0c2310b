"""A FastAPI backend run as its own process: `<python> -m uvicorn <app>` on a loopback port it keeps.

Seed 002's backends (apps/) run out of the harness's process, sometimes in an interpreter of their own
(.venv-resonate): `stepbricks run --variant resonate` starts one, and the tests kill one mid-run and start it
again on the same address, as a crashed service is restarted behind its URL. Each start writes its own log
file, so what a killed process said is kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import requests

from harness.deploy import PROJECT_ROOT
from harness.ports import free_port

STOP_SECONDS = 15


class AppProcessError(RuntimeError):
    """The app exited while starting or did not answer in time; the message ends with its log."""


class AppProcess:
    """One app on one port; `start()` again after `kill()` or `stop()` serves the same URL."""

    def __init__(self, python: Path | str, app: Sequence[str], env: Mapping[str, str], log_dir: Path, *,
                 name: str = "backend") -> None:  # fmt: skip
        self.python, self.app, self.env, self.log_dir = str(python), list(app), dict(env), Path(log_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = f"{name}-{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, extra_env: Mapping[str, str] | None = None, timeout: float = 60) -> AppProcess:
        """Start it and wait until it serves its OpenAPI document (FastAPI's, so any app of ours has one)."""
        self.starts += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{self.name}-{self.starts}.log").open("w") as log:
            self.proc = subprocess.Popen(
                [self.python, "-m", "uvicorn", *self.app, "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", "warning"],
                cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **self.env, **(extra_env or {}), "PYTHONPATH": str(PROJECT_ROOT)},
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AppProcessError(f"{self.name} exited with {self.proc.returncode}: {self.logs()[-2000:]}")
            try:
                requests.get(f"{self.url}/openapi.json", timeout=2).raise_for_status()
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise AppProcessError(f"{self.name} did not start within {timeout:.0f} s: {self.logs()[-2000:]}")

    @property
    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def logs(self) -> str:
        """Everything every start of it wrote, oldest first."""
        logs = sorted(self.log_dir.glob(f"{self.name}-*.log"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        return "\n".join(p.read_text(errors="replace") for p in logs)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_SECONDS."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
