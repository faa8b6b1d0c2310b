"""Seed 001's other operator: submit a one-time run (`runs/submit`) of a notebook, no predefined job.

Notebook path and cluster come from Airflow Variables (`stepbricks_notebook_path`,
`stepbricks_cluster_id`; env `AIRFLOW_VAR_…`), so the same DAG runs against any workspace.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator
from airflow.sdk import DAG

default_args = {
    "owner": "airflow",
    "start_date": datetime(2024, 1, 1),
    "retries": 3,
}

with DAG(
    "databricks_submit_run",
    default_args=default_args,
    schedule="@daily",
    catchup=False,
) as dag:
    submit_run = DatabricksSubmitRunOperator(
        task_id="submit_databricks_run",
        databricks_conn_id="databricks_default",
        tasks=[
            {
                "task_key": "notebook",
                "notebook_task": {
                    "notebook_path": "{{ var.value.get('stepbricks_notebook_path', '/Shared/stepbricks/etl') }}",
                    "base_parameters": {"logical_date": "{{ ds }}"},
                },
                "existing_cluster_id": "{{ var.value.get('stepbricks_cluster_id', '') }}",
            }
        ],
        polling_period_seconds=1,
    )
