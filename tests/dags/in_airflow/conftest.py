"""Airflow's side of the DAG tests: runs in `.venv-airflow` (see scripts/airflow_venv.sh).

Airflow reads its configuration when first imported, so its home, database and DAG folder are set
here at import time. The fake workspace is started with the project's own interpreter
(`workspace_server.py`), and Airflow reaches it through the `databricks_default` connection in the
shape databricks-jobs-api.md gives: host 127.0.0.1, the port, schema http, the token as password.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.dags.in_airflow.airflow_support import JOB_NAME, NOTEBOOK_PATH, PROJECT_ROOT, FakeWorkspace

DAG_TESTS = Path(__file__).resolve().parents[1]  # tests/dags: workspace_server.py, notebooks/
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="stepbricks-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)  # made at import, so removed at exit
os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
})


def _main_python() -> str:
    return os.environ.get("STEPBRICKS_MAIN_PYTHON") or str(PROJECT_ROOT / ".venv" / "bin" / "python")


@pytest.fixture(scope="session")
def airflow_db() -> None:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeWorkspace]:
    proc = subprocess.Popen([_main_python(), str(DAG_TESTS / "workspace_server.py"), str(tmp_path_factory.mktemp("ws"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})  # fmt: skip
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake workspace did not start (exit code {proc.wait(30)})")
        yield FakeWorkspace(**json.loads(line))
    finally:
        proc.stdin.close()
        proc.wait(60)


@pytest.fixture(scope="session")
def deployed(workspace: FakeWorkspace, airflow_db: None) -> dict:
    """The test notebook and a job running it, plus the connection and Variables the DAGs read."""
    workspace.call("POST", "/api/2.0/workspace/mkdirs", {"path": NOTEBOOK_PATH.rsplit("/", 1)[0]})
    content = base64.b64encode((DAG_TESTS / "notebooks" / "hello.py").read_bytes()).decode()
    workspace.call("POST", "/api/2.0/workspace/import", {"path": NOTEBOOK_PATH, "format": "SOURCE",
                                                          "language": "PYTHON", "content": content, "overwrite": True})
    cluster_id = workspace.call("GET", "/api/2.1/clusters/list")["clusters"][0]["cluster_id"]
    job_id = workspace.call("POST", "/api/2.1/jobs/create", {
        "name": JOB_NAME,
        "tasks": [{"task_key": "hello", "notebook_task": {"notebook_path": NOTEBOOK_PATH},
                   "existing_cluster_id": cluster_id}],
    })["job_id"]  # fmt: skip
    url = urlsplit(workspace.host)
    os.environ["AIRFLOW_CONN_DATABRICKS_DEFAULT"] = json.dumps({
        "conn_type": "databricks", "host": url.hostname, "port": url.port, "schema": "http",
        "password": workspace.token,
    })  # fmt: skip
    os.environ["AIRFLOW_VAR_STEPBRICKS_JOB_NAME"] = JOB_NAME
    os.environ["AIRFLOW_VAR_STEPBRICKS_NOTEBOOK_PATH"] = NOTEBOOK_PATH
    os.environ["AIRFLOW_VAR_STEPBRICKS_CLUSTER_ID"] = cluster_id
    return {"job_id": job_id, "cluster_id": cluster_id}


@pytest.fixture
def task_fault(workspace: FakeWorkspace) -> Iterator[Callable[..., int]]:
    """Add a fault through the workspace's HTTP fault API; every fault is removed after the test."""
    ids: list[int] = []

    def add(**fault: object) -> int:
        ids.append(workspace.call("POST", "/api/2.0/stepbricks/faults", fault)["fault_id"])
        return ids[-1]

    yield add
    workspace.call("POST", "/api/2.0/stepbricks/faults/reset")
