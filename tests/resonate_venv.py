"""The Resonate backend's Python 3.12 environment (.venv-resonate), made on demand by scripts/resonate_venv.sh
as the DAG tests make Airflow's; a test that needs it skips, saying why, when it cannot be made."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv-resonate" / "bin" / "python"
VENV_SECONDS = 900  # a first run downloads resonate-sdk, FastAPI and databricks-cli


def resonate_python() -> Path:
    made = subprocess.run(["bash", str(ROOT / "scripts" / "resonate_venv.sh")], capture_output=True, text=True,
                          timeout=VENV_SECONDS)  # fmt: skip
    if made.returncode != 0 or not VENV_PYTHON.exists():
        reason = (made.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"the Resonate venv could not be created by scripts/resonate_venv.sh: {reason}")
    return VENV_PYTHON
