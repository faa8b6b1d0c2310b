"""Proof that `--stepbricks-backend=external` works: the end-to-end suite, in a pytest subprocess, flies
the pipeline against a `stepbricks up` running in ANOTHER process — the code path a Docker stack or a
real AWS account + Databricks workspace takes (only the environment differs).

By default a representative subset runs (clean data through ETL/train/evaluate with its SNS
notification, every invalid-file path, the callback variant), so CI pays for the pipeline once more,
not twice; STEPBRICKS_EXTERNAL_E2E=all runs the whole of tests/e2e (about 3 min here).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests import schedule

ROOT = Path(__file__).resolve().parents[2]
STEPBRICKS = Path(sys.executable).with_name("stepbricks")
SUBSET = (
    "test_pipeline_succeeds_on_clean_data_and_notifies_success or test_invalid_files_take_the_invalid_path "
    "or test_callback_variant_succeeds_with_task_tokens or simulator"
)
SIMULATOR_ONLY = ROOT / "tests" / "backends" / "test_simulator_only_features.py"

UP_SECONDS = 180
E2E_SECONDS = 1500  # the inner suite; the test's own timeout is set above it (and `stepbricks up`'s start-up)
pytestmark = [pytest.mark.xdist_group(schedule.FLIGHTS_IN_SUBPROCESSES), pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def stepbricks_up(tmp_path_factory):
    """`stepbricks up` in its own process, state dir and STEPBRICKS_HOME; its endpoints once it is ready."""
    home = tmp_path_factory.mktemp("stepbricks-home")
    env = {**os.environ, "STEPBRICKS_HOME": str(home)}
    log = (home / "up.log").open("w")
    proc = subprocess.Popen([str(STEPBRICKS), "up", "--state-dir", str(home / "state")], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    endpoints = home / "endpoints.json"
    deadline = time.monotonic() + UP_SECONDS
    while not endpoints.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"stepbricks up did not write {endpoints}:\n{(home / 'up.log').read_text()}")
        time.sleep(0.5)
    yield {"home": home, "env": json.loads(endpoints.read_text())["env"], "proc": proc}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_stepbricks_status_sees_the_other_process_up(stepbricks_up):
    result = subprocess.run([str(STEPBRICKS), "status"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "STEPBRICKS_HOME": str(stepbricks_up["home"]), "COLUMNS": "200"},
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" up") >= 2


def _outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """test id -> (passed | skipped | failed, skip or failure message)."""
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        for kind in ("skipped", "failure", "error"):
            found = case.find(kind)
            if found is not None:
                outcomes[name] = ("skipped" if kind == "skipped" else "failed", found.get("message", ""))
                break
        else:
            outcomes[name] = ("passed", "")
    return outcomes


@pytest.mark.timeout(UP_SECONDS + E2E_SECONDS + 120)
def test_the_end_to_end_suite_passes_on_the_external_backend_and_skips_simulator_only_tests(
    stepbricks_up, tmp_path
):
    whole = os.environ.get("STEPBRICKS_EXTERNAL_E2E") == "all"
    junit = tmp_path / "external.xml"
    selection = ["tests/e2e"] if whole else ["tests/e2e/test_pipeline.py", "-k", SUBSET]
    command = [sys.executable, "-m", "pytest", *selection, str(SIMULATOR_ONLY.relative_to(ROOT)),
               "--stepbricks-backend=external", "-p", "no:cacheprovider", "-q", "-rs", f"--junitxml={junit}"]
    env = {**os.environ, **stepbricks_up["env"]}
    env.pop("STEPBRICKS_BACKEND", None)

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=E2E_SECONDS)

    up_log = (stepbricks_up["home"] / "up.log").read_text(errors="replace")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:] + "\nstepbricks up:\n" + up_log[-3000:]
    outcomes = _outcomes(junit)
    pipeline = {k: v for k, v in outcomes.items() if "test_pipeline" in k or "test_readme" in k}
    simulator_only = {k: v for k, v in outcomes.items() if "test_simulator_only_features" in k}
    assert len(pipeline) >= (10 if whole else 6) and all(s == "passed" for s, _ in pipeline.values()), pipeline
    assert len(simulator_only) == 3
    for test, (status, message) in simulator_only.items():
        assert status == "skipped", f"{test} {status} on the external backend"
        assert "needs the embedded simulator; backend is external" in message, message
