"""Seed 001's DAG: trigger a predefined Databricks job with Airflow's own provider.

The seed hard-codes `job_id="1234"`; a job's id differs per workspace, so this DAG names the job
instead (`job_name`, resolved by the provider through `jobs/list?name=`), taken from the Airflow
Variable `stepbricks_job_name` (env `AIRFLOW_VAR_STEPBRICKS_JOB_NAME`), default the pipeline's ETL job.
The connection `databricks_default` points at the workspace (a fake one: host 127.0.0.1, its port,
schema http, the token as password).
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator
from airflow.sdk import DAG

default_args = {
    "owner": "airflow",
    "start_date": datetime(2024, 1, 1),
    "retries": 3,
}

with DAG(
    "databricks_job_trigger",
    default_args=default_args,
    schedule="@daily",  # Airflow 3 spells the seed's `schedule_interval` as `schedule`
    catchup=False,
) as dag:
    trigger_job = DatabricksRunNowOperator(
        task_id="run_databricks_job",
        job_name="{{ var.value.get('stepbricks_job_name', 'stepbricks-etl') }}",
        databricks_conn_id="databricks_default",
        polling_period_seconds=1,
    )
