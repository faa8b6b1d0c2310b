"""run_training + run_evaluation end to end: real moto server (S3), SQLite MLflow store, S3 artifacts."""

from __future__ import annotations

import io
import json

import joblib
import mlflow
import pytest
from conftest import BUCKETS
from mlflow.exceptions import MlflowException

from ml.evaluate import run_evaluation
from ml.features import feature_frame

PROCESSED = f"s3://{BUCKETS['processed']}/e2e/processed"
RESULTS = f"s3://{BUCKETS['results']}/results"


def _get(stack, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_training_registers_a_version_whose_run_holds_params_and_metrics(ml_stack, trained):
    client = mlflow.MlflowClient()
    version = client.get_model_version("churn-e2e", str(trained["model_version"]))
    assert version.run_id == trained["mlflow_run_id"]
    assert trained["model_uri"] == f"models:/churn-e2e/{trained['model_version']}"
    run = client.get_run(trained["mlflow_run_id"])
    assert run.data.params["seed"] == "42"
    assert run.data.metrics["train_roc_auc"] == pytest.approx(trained["train_metrics"]["roc_auc"])
    assert trained["batches"] == ["b1", "b2"]  # the batch without a manifest is not read


def test_only_the_train_split_of_committed_batches_is_trained_on(trained, customers):
    assert 0.75 * len(customers) < trained["train_rows"] < 0.85 * len(customers)


def test_mlflow_artifacts_land_in_the_mlflow_bucket(ml_stack, trained):
    run = mlflow.MlflowClient().get_run(trained["mlflow_run_id"])
    assert run.info.artifact_uri.startswith(f"s3://{BUCKETS['mlflow']}/")
    keys = [o["Key"] for o in ml_stack.s3.list_objects_v2(Bucket=BUCKETS["mlflow"]).get("Contents", [])]
    assert any(k.endswith("MLmodel") for k in keys)


def test_model_artifact_in_the_models_bucket_predicts_like_the_registered_model(ml_stack, trained, customers):
    assert (
        trained["artifact_uri"]
        == f"s3://{BUCKETS['models']}/models/churn-e2e/v{trained['model_version']}/model.joblib"
    )
    copy = joblib.load(io.BytesIO(_get(ml_stack, trained["artifact_uri"])))
    registered = mlflow.sklearn.load_model(trained["model_uri"])
    x = feature_frame(customers.head(50))
    assert (copy.predict_proba(x) == registered.predict_proba(x)).all()


def test_evaluation_passing_the_gate_writes_metrics_and_sets_champion(ml_stack, trained):
    result = run_evaluation(
        processed_uri=PROCESSED,
        model_name="churn-e2e",
        model_version=str(trained["model_version"]),  # as a notebook widget delivers it
        results_root=RESULTS,
        # min_roc_auc left at its default (0.70), the pipeline's gate
    )
    assert result["gate"] == {
        "metric": "roc_auc",
        "threshold": 0.70,
        "value": result["metrics"]["roc_auc"],
        "passed": True,
    }
    assert result["champion_set"] is True
    assert result["metrics"]["roc_auc"] > 0.75
    assert set(result["metrics"]) >= {
        "roc_auc",
        "f1",
        "precision",
        "recall",
        "accuracy",
        "log_loss",
        "brier_score",
    }
    assert result["metrics_uri"] == f"{RESULTS}/churn-e2e/v{trained['model_version']}/metrics.json"

    document = json.loads(_get(ml_stack, result["metrics_uri"]))
    assert document["metrics"] == result["metrics"]
    assert len(document["reliability"]) == 10
    assert (
        sum(b["count"] for b in document["reliability"]) == document["holdout_rows"] == result["holdout_rows"]
    )

    client = mlflow.MlflowClient()
    assert int(client.get_model_version_by_alias("churn-e2e", "champion").version) == trained["model_version"]
    evaluation = client.get_run(result["mlflow_run_id"])
    assert evaluation.data.tags["mlflow.parentRunId"] == trained["mlflow_run_id"]
    assert evaluation.data.metrics["holdout_roc_auc"] == pytest.approx(result["metrics"]["roc_auc"])


def test_evaluation_failing_the_gate_does_not_set_champion(ml_stack, customers):
    from ml.train import run_training

    ml_stack.put_batch("gate/processed", customers, "only")
    processed = f"s3://{BUCKETS['processed']}/gate/processed"
    trained = run_training(
        processed_uri=processed,
        model_name="churn-gate",
        models_root=f"s3://{BUCKETS['models']}/models",
        seed=1,
    )
    result = run_evaluation(
        processed_uri=processed,
        model_name="churn-gate",
        model_version=trained["model_version"],
        results_root=RESULTS,
        min_roc_auc=0.99,
    )
    assert result["gate"]["passed"] is False
    assert result["champion_set"] is False
    assert json.loads(_get(ml_stack, result["metrics_uri"]))["gate"]["passed"] is False
    with pytest.raises(MlflowException, match="alias champion"):
        mlflow.MlflowClient().get_model_version_by_alias("churn-gate", "champion")


def test_evaluating_an_unregistered_version_fails_before_writing_anything(ml_stack, trained):
    with pytest.raises(MlflowException):
        run_evaluation(
            processed_uri=PROCESSED, model_name="churn-e2e", model_version=999, results_root=RESULTS
        )
    listed = ml_stack.s3.list_objects_v2(Bucket=BUCKETS["results"], Prefix="results/churn-e2e/v999/")
    assert listed["KeyCount"] == 0


def test_a_later_version_failing_the_gate_leaves_the_champion_where_it_was(ml_stack, customers):
    from ml.train import run_training

    ml_stack.put_batch("keep/processed", customers, "only")
    processed = f"s3://{BUCKETS['processed']}/keep/processed"
    models = f"s3://{BUCKETS['models']}/models"
    first = run_training(processed_uri=processed, model_name="churn-keep", models_root=models, seed=1)
    passed = run_evaluation(
        processed_uri=processed,
        model_name="churn-keep",
        model_version=first["model_version"],
        results_root=RESULTS,
    )
    assert passed["champion_set"] is True
    second = run_training(processed_uri=processed, model_name="churn-keep", models_root=models, seed=2)
    assert second["model_version"] == first["model_version"] + 1

    result = run_evaluation(
        processed_uri=processed,
        model_name="churn-keep",
        model_version=second["model_version"],
        results_root=RESULTS,
        min_roc_auc=0.99,
    )
    assert result["champion_set"] is False
    champion = mlflow.MlflowClient().get_model_version_by_alias("churn-keep", "champion")
    assert int(champion.version) == first["model_version"]


def test_a_model_version_that_is_not_a_number_is_refused_by_name(ml_stack):
    with pytest.raises(
        ValueError, match="model_version must be a registered version number such as 3, got 'latest'"
    ):
        run_evaluation(
            processed_uri=PROCESSED, model_name="churn-e2e", model_version="latest", results_root=RESULTS
        )
