"""Drives tests/sim/resonate_sdk inside the Resonate venv (Python 3.12, resonate-sdk 0.6.7) against a
promise server started here: the SDK's own store client and message source are the contract."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from sim.resonate import PromiseServer
from tests.resonate_venv import ROOT, VENV_SECONDS, resonate_python

SDK_TESTS_SECONDS = 300
pytestmark = [pytest.mark.slow, pytest.mark.timeout(VENV_SECONDS + SDK_TESTS_SECONDS + 60)]


def test_the_resonate_sdk_passes_against_the_local_server(tmp_path: Path) -> None:
    python = resonate_python()
    with PromiseServer.start(state_dir=tmp_path / "resonate") as server:
        result = subprocess.run(
            [str(python), "-m", "pytest", "tests/sim/resonate_sdk", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT, capture_output=True, text=True, timeout=SDK_TESTS_SECONDS,
            env={**os.environ, **server.env, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
    assert result.returncode == 0, tail
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 4, tail
