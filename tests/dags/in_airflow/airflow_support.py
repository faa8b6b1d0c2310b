"""What the Airflow-side DAG tests share: the fake workspace handle, names, and loading a DAG."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[3]
JOB_NAME = "airflow-hello"
NOTEBOOK_PATH = "/Shared/airflow/hello"


@dataclass
class FakeWorkspace:
    host: str
    token: str

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        import requests

        r = requests.request(method, f"{self.host}{path}", json=body, params=query, timeout=30,
                             headers={"Authorization": f"Bearer {self.token}"})  # fmt: skip
        r.raise_for_status()
        return r.json()

    def latest_run(self, job_id: int) -> dict:
        """The job's newest run, with its tasks (runs/list leaves them out unless expand_tasks)."""
        newest = self.call("GET", "/api/2.1/jobs/runs/list", query={"job_id": job_id, "limit": 1})["runs"][0]
        return self.call("GET", "/api/2.1/jobs/runs/get", query={"run_id": newest["run_id"]})


def load_dag(dag_id: str) -> Any:
    """Parse the project's dags/ folder as the scheduler would; fail on any import error."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    for task in dag.tasks:
        task.retries = 0  # the seed's retries=3 would only repeat the injected failure
    return dag
