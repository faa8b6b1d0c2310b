"""Starts a fake Databricks workspace for the Airflow tests, which run in `.venv-airflow`.

Airflow's venv does not carry the project (Spark, MLflow, …), so the tests start the workspace with
the project's own interpreter: `.venv/bin/python tests/dags/workspace_server.py STATE_DIR` prints one
JSON line `{"host", "token"}` and serves until its standard input closes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim.databricks import Workspace


def main() -> None:
    with Workspace.start(state_dir=Path(sys.argv[1])) as ws:
        print(json.dumps({"host": ws.host, "token": ws.token}), flush=True)
        sys.stdin.read()  # the parent closes our stdin (or dies) to stop us


if __name__ == "__main__":
    main()
