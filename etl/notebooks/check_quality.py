# Databricks notebook source
# MAGIC %md
# MAGIC # stepbricks native: the batch's data quality
# MAGIC After the For each ETL task of the Databricks-native job: reads the committed batches of `files`
# MAGIC back and sets the task values the job's data-quality condition reads (`passed`, a boolean) and
# MAGIC the counts (`rows_in`, `rows_written`, `rows_quarantined`).

# COMMAND ----------

dbutils.widgets.text("files", "[]", "The files the ETL processed (a JSON array of s3:// URIs)")
dbutils.widgets.text("processed_root", "", "Processed root (s3://bucket/prefix)")
dbutils.widgets.text("quarantine_root", "", "Quarantine root (s3://bucket/prefix)")

files = dbutils.widgets.get("files")
processed_root = dbutils.widgets.get("processed_root")
quarantine_root = dbutils.widgets.get("quarantine_root")

# COMMAND ----------

import json

from etl.arrivals import batch_quality
from etl.objects import LocalOrS3Store

summary = batch_quality(LocalOrS3Store(), json.loads(files), processed_root=processed_root,
                        quarantine_root=quarantine_root)  # fmt: skip
for key in ("passed", "rows_in", "rows_written", "rows_quarantined"):
    dbutils.jobs.taskValues.set(key, summary[key])
print(json.dumps(summary, indent=2))

# COMMAND ----------

dbutils.notebook.exit(json.dumps(summary))
