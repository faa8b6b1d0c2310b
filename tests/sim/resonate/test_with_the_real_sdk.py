"""Drives tests/sim/resonate_sdk inside the Resonate venv (Python 3.12, resonate-sdk 0.6.7) against a
promise server started here: the SDK's own store client and message source are the contract."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

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


def test_a_function_waiting_on_a_promise_sees_it_time_out_when_the_virtual_clock_reaches_its_timeout(
    virtual: PromiseServer,
) -> None:
    """The worker is connected, so the clock runs at wall speed; advancing it an hour times the promise
    out, the server resumes the function and the SDK raises ResonateTimedoutError in it."""
    python = resonate_python()
    # The worker creates the promise before its long-poll connection is up; with nobody holding the clock in
    # between, the server would rightly skip to the promise's deadline. The test is the actor until then.
    start_up = contextlib.ExitStack()
    start_up.enter_context(virtual.clock.busy())
    worker = subprocess.Popen(
        [str(python), str(ROOT / "tests" / "sim" / "resonate_sdk" / "wait_for_timeout.py"), "deadline-1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **virtual.env, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert worker.stdout.readline().strip() == "waiting"
        deadline = time.monotonic() + 30
        while not virtual.store.has_callback("deadline-1"):  # the function suspended on the promise
            assert time.monotonic() < deadline and worker.poll() is None, worker.stdout.read()
            time.sleep(0.1)
        start_up.close()
        assert requests.get(f"{virtual.url}/promises/deadline-1", timeout=10).json()["state"] == "PENDING"
        virtual.clock.advance(3600)
        assert worker.wait(60) == 0
        assert worker.stdout.read().split() == ["timedout"]
        assert requests.get(f"{virtual.url}/promises/deadline-1", timeout=10).json()["state"] == "REJECTED_TIMEDOUT"
    finally:
        start_up.close()
        if worker.poll() is None:
            worker.kill()
