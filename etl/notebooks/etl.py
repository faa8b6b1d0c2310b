# Databricks notebook source
# MAGIC %md
# MAGIC # stepbricks ETL
# MAGIC Raw customer file (CSV, JSON lines or a JSON array) → validated, typed, de-duplicated Parquet under
# MAGIC `processed_root`, rejected records with their reason under `quarantine_root`, a `_manifest.json`
# MAGIC written last. Exits with the run summary as JSON; with a `task_token` it also answers the waiting
# MAGIC Step Functions state (SendTaskSuccess / SendTaskFailure).

# COMMAND ----------

dbutils.widgets.text("source_uri", "", "Raw file (s3://bucket/key)")
dbutils.widgets.text("processed_root", "", "Processed root (s3://bucket/prefix)")
dbutils.widgets.text("quarantine_root", "", "Quarantine root (s3://bucket/prefix)")
dbutils.widgets.text("processing_date", "", "Processing date (YYYY-MM-DD, empty = today)")
dbutils.widgets.text("task_token", "", "Step Functions task token (empty = none)")

source_uri = dbutils.widgets.get("source_uri")
processed_root = dbutils.widgets.get("processed_root")
quarantine_root = dbutils.widgets.get("quarantine_root")
processing_date = dbutils.widgets.get("processing_date")
task_token = dbutils.widgets.get("task_token")

# COMMAND ----------

import json

from etl.pipeline import run_etl
from etl.task_token import report_to_step_functions

with report_to_step_functions(task_token) as report:
    for name, value in [("source_uri", source_uri), ("processed_root", processed_root),
                        ("quarantine_root", quarantine_root)]:  # fmt: skip
        if not value:
            raise ValueError(f"widget {name!r} is required and was empty")
    summary = run_etl(
        spark,
        source_uri=source_uri,
        processed_root=processed_root,
        quarantine_root=quarantine_root,
        processing_date=processing_date or None,
    )
    report.succeed(summary)

print(json.dumps(summary, indent=2))

# COMMAND ----------

dbutils.notebook.exit(json.dumps(summary))
