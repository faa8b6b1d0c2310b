# Databricks notebook source
# MAGIC %md
# MAGIC # stepbricks native: the files that arrived
# MAGIC First task of the Databricks-native pipeline job (started by a file-arrival trigger, which does not
# MAGIC name the files): the data files under `landing_uri` not yet processed, as the task values `files`
# MAGIC (a JSON array, the input of the For each ETL task) and `file_count`.

# COMMAND ----------

dbutils.widgets.text("landing_uri", "", "Landing location (s3://bucket/prefix/)")
dbutils.widgets.text("processed_root", "", "Processed root (s3://bucket/prefix)")
dbutils.widgets.text("quarantine_root", "", "Quarantine root (s3://bucket/prefix)")

landing_uri = dbutils.widgets.get("landing_uri")
processed_root = dbutils.widgets.get("processed_root")
quarantine_root = dbutils.widgets.get("quarantine_root")

# COMMAND ----------

import json

from etl.arrivals import new_files
from etl.objects import LocalOrS3Store

for name, value in [("landing_uri", landing_uri), ("processed_root", processed_root),
                    ("quarantine_root", quarantine_root)]:  # fmt: skip
    if not value:
        raise ValueError(f"widget {name!r} is required and was empty")
files = new_files(LocalOrS3Store(), landing_uri, processed_root=processed_root, quarantine_root=quarantine_root)
if not files:
    raise ValueError(f"no unprocessed file under {landing_uri}")
dbutils.jobs.taskValues.set("files", files)
dbutils.jobs.taskValues.set("file_count", len(files))
print(json.dumps(files, indent=2))

# COMMAND ----------

dbutils.notebook.exit(json.dumps({"files": files}))
