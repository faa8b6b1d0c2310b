"""Evaluate a registered model version on the holdout customers and gate its promotion.

The holdout is recomputed from `customer_id` (`ml.features.split`), so it is the same customers the
training job left out, without the two jobs sharing anything but the processed data. The `champion`
alias moves only when the gate passes; a failing version leaves the previous champion in place.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
from threadpoolctl import threadpool_limits

from ml import tracking
from ml.data import read_processed
from ml.features import feature_frame, split, target
from ml.metrics import classification_metrics, reliability_table, table_as_dicts
from ml.storage import LocalOrS3Store, ObjectStore, join_uri
from ml.train import default_threads

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ml.scoring import ScoredMetrics

__all__ = ["GATE_METRIC", "METRICS_FILE_NAME", "metrics_uri_for", "run_evaluation"]

GATE_METRIC = "roc_auc"
METRICS_FILE_NAME = "metrics.json"


def metrics_uri_for(results_root: str, model_name: str, model_version: int | str) -> str:
    """`{results_root}/{model_name}/v{version}/metrics.json`."""
    return join_uri(results_root, model_name, f"v{model_version}", METRICS_FILE_NAME)


def run_evaluation(
    *,
    processed_uri: str,
    model_name: str,
    model_version: int | str,
    results_root: str,
    min_roc_auc: float = 0.70,
    storage: ObjectStore | None = None,
    threshold: float = 0.5,
    resource_prefix: str = "",
    spark: SparkSession | None = None,
) -> dict[str, Any]:
    """The evaluation job. Returns the JSON-able summary the notebook exits with.

    Result keys: `metrics`, `gate` {metric, threshold, value, passed}, `metrics_uri`, `champion_set`,
    plus `mlflow_run_id` (the evaluation run), `training_run_id`, `holdout_rows`, `model_name`,
    `model_version`. The evaluation run joins its training run's experiment (so its artifacts land in
    that deployment's root); `resource_prefix` names the deployment's experiment when there is none.

    With `spark` (the notebook's session) every holdout row is scored by Spark in Arrow batches and the
    metrics are computed over all of them in Spark (`ml.scoring`), so memory does not grow with the
    rows; without it the pandas reader loads the holdout whole, for small data and tests.
    """
    store = storage or LocalOrS3Store()
    version = str(model_version).strip()  # widgets arrive as strings; "3" and 3 name the same version
    if not version.isdigit():
        raise ValueError(
            f"model_version must be a registered version number such as 3, got {model_version!r}"
        )
    mlflow = tracking.mlflow_module()
    client = mlflow.MlflowClient()
    registered = client.get_model_version(model_name, version)
    pipeline = tracking.load_model(model_name, version)

    if spark is None:
        data = read_processed(processed_uri, storage=store)
        holdout = split(data.frame).holdout
        y_true = target(holdout).to_numpy()
        with threadpool_limits(limits=default_threads()):
            proba = pipeline.predict_proba(feature_frame(holdout))[:, 1]
        metrics = classification_metrics(y_true, proba, threshold=threshold)
        reliability = table_as_dicts(reliability_table(y_true, proba))
        holdout_rows, positive_rate, batches = len(holdout), float(np.mean(y_true)), data.batches
    else:
        scored, batches = _score_in_spark(spark, store, processed_uri, pipeline, threshold)
        metrics, reliability = scored.metrics, table_as_dicts(scored.reliability)
        holdout_rows, positive_rate = scored.rows, scored.positive_rate
    value = metrics[GATE_METRIC]
    gate = {
        "metric": GATE_METRIC,
        "threshold": float(min_roc_auc),
        "value": value,
        "passed": bool(value >= min_roc_auc),
    }

    training_run = client.get_run(registered.run_id) if registered.run_id else None
    experiment_id = (
        training_run.info.experiment_id
        if training_run
        else tracking.ensure_experiment(
            tracking.experiment_name_for(model_name, resource_prefix=resource_prefix), resource_prefix=resource_prefix
        )
    )
    tags = {
        "stepbricks.job": "evaluate",
        "stepbricks.model_name": model_name,
        "stepbricks.model_version": version,
        "stepbricks.gate_passed": str(gate["passed"]).lower(),
    }
    if training_run:
        # Shown nested under the training run in the MLflow UI.
        tags |= {
            "mlflow.parentRunId": training_run.info.run_id,
            "stepbricks.training_run_id": training_run.info.run_id,
        }
    metrics_uri = metrics_uri_for(results_root, model_name, version)
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"evaluate-{model_name}-v{version}", tags=tags
    ) as run:
        mlflow.log_params(
            {"min_roc_auc": min_roc_auc, "decision_threshold": threshold, "holdout_rows": holdout_rows}
        )
        mlflow.log_metrics(
            {f"holdout_{k}": v for k, v in metrics.items()}, model_id=registered.model_id or None
        )
        mlflow.log_dict({"bins": reliability}, "reliability.json")
        document = {
            "model_name": model_name,
            "model_version": int(version),
            "model_uri": f"models:/{model_name}/{version}",
            "mlflow_run_id": run.info.run_id,
            "training_run_id": registered.run_id,
            "processed_uri": processed_uri,
            "batches": list(batches),
            "holdout_rows": holdout_rows,
            "holdout_positive_rate": positive_rate,
            "decision_threshold": threshold,
            "metrics": metrics,
            "reliability": reliability,
            "gate": gate,
        }
        store.put_bytes(metrics_uri, json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))
        mlflow.set_tag("stepbricks.metrics_uri", metrics_uri)

    if gate["passed"]:
        client.set_registered_model_alias(model_name, tracking.CHAMPION_ALIAS, version)
    return {
        "metrics": metrics,
        "gate": gate,
        "metrics_uri": metrics_uri,
        "champion_set": gate["passed"],
        "mlflow_run_id": run.info.run_id,
        "training_run_id": registered.run_id,
        "holdout_rows": holdout_rows,
        "model_name": model_name,
        "model_version": int(version),
    }


def _score_in_spark(
    spark: SparkSession, store: ObjectStore, processed_uri: str, pipeline: Any, threshold: float
) -> tuple[ScoredMetrics, tuple[str, ...]]:
    """Metrics of every holdout row, scored where the rows are; the batches read."""
    from ml.scoring import exact_metrics, score
    from ml.spark_data import read_processed_spark, spark_storage

    with spark_storage(spark, store) as storage:
        processed = read_processed_spark(storage, processed_uri)
        scored = score(processed.frame.where("holdout"), pipeline, threads=default_threads())
        return exact_metrics(scored, threshold=threshold), processed.batches
