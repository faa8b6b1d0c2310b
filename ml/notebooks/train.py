# Databricks notebook source
# MAGIC %md
# MAGIC # stepbricks training
# MAGIC Committed processed batches under `processed_uri` → a seeded scikit-learn pipeline trained on the
# MAGIC non-holdout customers (at most `max_train_rows` of them, a seeded stratified sample), logged to MLflow and registered as a new version of `model_name`, with a copy
# MAGIC at `{models_root}/{model_name}/v{version}/model.joblib`. Exits with the run summary as JSON; with a
# MAGIC `task_token` it also answers the waiting Step Functions state (SendTaskSuccess / SendTaskFailure).

# COMMAND ----------

dbutils.widgets.text(
    "processed_uri", "", "Processed data (s3://bucket/prefix, a root or one batch_id=… folder)"
)
dbutils.widgets.text("model_name", "", "Registered model name")
dbutils.widgets.text("models_root", "", "Models root (s3://bucket/prefix)")
dbutils.widgets.text("seed", "42", "Random seed")
dbutils.widgets.text(
    "max_train_rows", "", "Most rows to fit on (seeded, stratified sample; empty = STEPBRICKS_ML_MAX_TRAIN_ROWS or 200000)"
)
dbutils.widgets.text("task_token", "", "Step Functions task token (empty = none)")
dbutils.widgets.text(
    "resource_prefix", "", "The deployment's resource prefix (MLflow experiment and artifact bucket)"
)

processed_uri = dbutils.widgets.get("processed_uri")
model_name = dbutils.widgets.get("model_name")
models_root = dbutils.widgets.get("models_root")
seed = dbutils.widgets.get("seed")
max_train_rows = dbutils.widgets.get("max_train_rows")
task_token = dbutils.widgets.get("task_token")
resource_prefix = dbutils.widgets.get("resource_prefix")

# COMMAND ----------

import json

from etl.task_token import report_to_step_functions
from ml.train import run_training

with report_to_step_functions(task_token) as report:
    for name, value in [
        ("processed_uri", processed_uri),
        ("model_name", model_name),
        ("models_root", models_root),
    ]:
        if not value:
            raise ValueError(f"widget {name!r} is required and was empty")
    if not seed.strip().lstrip("-").isdigit():
        raise ValueError(f"widget 'seed' must be an integer, got {seed!r}")
    result = run_training(
        processed_uri=processed_uri,
        model_name=model_name,
        models_root=models_root,
        seed=int(seed),
        resource_prefix=resource_prefix,
        spark=spark,  # read and sample with Spark: only the sample reaches pandas
        max_train_rows=max_train_rows or None,
    )
    report.succeed(result)

# Downstream tasks of the same job run read the version as {{tasks.<this task>.values.model_version}}
# (the Databricks-native job); outside a job run Databricks ignores set.
dbutils.jobs.taskValues.set("model_version", str(result["model_version"]))
print(json.dumps(result, indent=2))

# COMMAND ----------

dbutils.notebook.exit(json.dumps(result))
