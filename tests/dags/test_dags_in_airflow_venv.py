"""Runs the Airflow DAG tests (tests/dags/in_airflow) in Airflow's own venv, created on demand.

The venv is made (idempotently) by scripts/airflow_venv.sh; this test skips only when that script
cannot create it, and says why. The fake workspace is started with this interpreter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv-airflow" / "bin" / "python"

# Each subprocess's timeout is below the test's own (pytest's default of 600 s would kill the test first,
# and the subprocess timeouts could never fire).
VENV_SECONDS = 1800  # a first run downloads and installs Airflow
DAG_TESTS_SECONDS = 1200
pytestmark = [pytest.mark.slow, pytest.mark.timeout(VENV_SECONDS + DAG_TESTS_SECONDS + 120)]


def _ensure_airflow_venv() -> None:
    made = subprocess.run(["bash", str(ROOT / "scripts" / "airflow_venv.sh")], capture_output=True, text=True,
                          timeout=VENV_SECONDS)
    if made.returncode != 0 or not VENV_PYTHON.exists():
        reason = (made.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"Airflow's venv could not be created by scripts/airflow_venv.sh: {reason}")


def test_airflow_dags_pass_in_their_own_venv() -> None:
    _ensure_airflow_venv()
    result = subprocess.run(
        [str(VENV_PYTHON), "-m", "pytest", "tests/dags/in_airflow", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=DAG_TESTS_SECONDS,
        env={**os.environ, "PYTHONPATH": str(ROOT), "STEPBRICKS_MAIN_PYTHON": sys.executable},
    )  # fmt: skip
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
    assert result.returncode == 0, tail
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 3, tail
