# Databricks notebook source
# MAGIC %md
# MAGIC # stepbricks evaluation
# MAGIC Scores version `model_version` of `model_name` on the holdout customers of `processed_uri`, writes
# MAGIC `{results_root}/{model_name}/v{version}/metrics.json`, logs the metrics to MLflow, and sets the
# MAGIC `champion` alias only when ROC AUC >= `min_roc_auc`. A failed gate is a successful run whose
# MAGIC `gate.passed` is false: the state machine's Choice decides what happens next.

# COMMAND ----------

dbutils.widgets.text(
    "processed_uri", "", "Processed data (s3://bucket/prefix, a root or one batch_id=… folder)"
)
dbutils.widgets.text("model_name", "", "Registered model name")
dbutils.widgets.text("model_version", "", "Registered model version to evaluate")
dbutils.widgets.text("results_root", "", "Results root (s3://bucket/prefix)")
dbutils.widgets.text("min_roc_auc", "0.70", "Quality gate: minimum holdout ROC AUC")
dbutils.widgets.text("task_token", "", "Step Functions task token (empty = none)")
dbutils.widgets.text(
    "resource_prefix", "", "The deployment's resource prefix (MLflow experiment and artifact bucket)"
)

processed_uri = dbutils.widgets.get("processed_uri")
model_name = dbutils.widgets.get("model_name")
model_version = dbutils.widgets.get("model_version")
results_root = dbutils.widgets.get("results_root")
min_roc_auc = dbutils.widgets.get("min_roc_auc")
task_token = dbutils.widgets.get("task_token")
resource_prefix = dbutils.widgets.get("resource_prefix")

# COMMAND ----------

import json

from etl.task_token import report_to_step_functions
from ml.evaluate import run_evaluation

with report_to_step_functions(task_token) as report:
    for name, value in [
        ("processed_uri", processed_uri),
        ("model_name", model_name),
        ("model_version", model_version),
        ("results_root", results_root),
    ]:
        if not value:
            raise ValueError(f"widget {name!r} is required and was empty")
    try:
        threshold = float(min_roc_auc)
    except ValueError:
        raise ValueError(f"widget 'min_roc_auc' must be a number, got {min_roc_auc!r}") from None
    result = run_evaluation(
        processed_uri=processed_uri,
        model_name=model_name,
        model_version=model_version,
        results_root=results_root,
        min_roc_auc=threshold,
        resource_prefix=resource_prefix,
        spark=spark,  # every holdout row scored in Arrow batches, metrics computed by Spark
    )
    report.succeed(result)

# The Databricks-native job's model gate is a condition task on {{tasks.<this task>.values.gate_passed}}.
dbutils.jobs.taskValues.set("gate_passed", bool(result["gate"]["passed"]))
print(json.dumps(result, indent=2))

# COMMAND ----------

dbutils.notebook.exit(json.dumps(result))
