"""MLflow artifacts follow the deployment: two deployments with resource prefixes (harness.deploy's
`DeployConfig(prefix=...)`, e.g. experiment slots "x1-", "x2-") sharing one tracking store and one S3
write their runs' artifacts to their own `{prefix}stepbricks-mlflow` buckets, in their own experiments."""

from __future__ import annotations

import pytest
from conftest import BUCKETS

from ml import tracking
from ml.evaluate import run_evaluation
from ml.train import run_training

PREFIXES = ("x1-", "x2-")
MODEL = "churn-prefixed"  # the same registered model name in both deployments, as DeployConfig's default


def test_the_default_artifact_root_and_experiment_carry_the_resource_prefix(monkeypatch):
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    assert tracking.default_artifact_root() == tracking.DEFAULT_ARTIFACT_ROOT == "s3://stepbricks-mlflow"
    assert tracking.default_artifact_root("x1-") == "s3://x1-stepbricks-mlflow"
    assert tracking.experiment_name_for("m") == "/Shared/stepbricks/m"
    assert tracking.experiment_name_for("m", resource_prefix="x1-") == "/Shared/stepbricks/x1-m"
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "/Users/me/exp")  # an explicit name still wins
    assert tracking.experiment_name_for("m", resource_prefix="x1-") == "/Users/me/exp"


@pytest.fixture(scope="module")
def prefixed_runs(ml_stack, customers) -> dict[str, dict]:
    """One training and one evaluation per prefixed deployment, on the same processed batch."""
    for prefix in PREFIXES:
        for kind in ("models", "results", "mlflow"):
            ml_stack.s3.create_bucket(Bucket=f"{prefix}stepbricks-{kind}")
    ml_stack.put_batch("prefixed/processed", customers.iloc[:1500], "p1")
    batch_uri = f"s3://{BUCKETS['processed']}/prefixed/processed/batch_id=p1"
    runs = {}
    for prefix in PREFIXES:
        trained = run_training(processed_uri=batch_uri, model_name=MODEL, models_root=f"s3://{prefix}stepbricks-models",
                               seed=42, resource_prefix=prefix)  # fmt: skip
        evaluated = run_evaluation(processed_uri=batch_uri, model_name=MODEL, model_version=trained["model_version"],
                                   results_root=f"s3://{prefix}stepbricks-results", min_roc_auc=0.5,
                                   resource_prefix=prefix)  # fmt: skip
        runs[prefix] = {"train": trained, "evaluate": evaluated}
    return runs


def _keys(ml_stack, bucket: str) -> list[str]:
    pages = ml_stack.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_each_prefixed_deployment_logs_its_runs_under_its_own_artifact_root(ml_stack, prefixed_runs, prefix):
    import mlflow

    client = mlflow.MlflowClient()
    for job in ("train", "evaluate"):
        run = client.get_run(prefixed_runs[prefix][job]["mlflow_run_id"])
        assert run.info.artifact_uri.startswith(f"s3://{prefix}stepbricks-mlflow/Shared/stepbricks/{prefix}{MODEL}/")
        assert client.get_experiment(run.info.experiment_id).name == f"/Shared/stepbricks/{prefix}{MODEL}"
    keys = _keys(ml_stack, f"{prefix}stepbricks-mlflow")
    assert any(k.endswith("/reliability.json") for k in keys)  # the evaluation run's artifact
    assert any(k.endswith("MLmodel") for k in keys)  # the logged model


def test_the_two_deployments_share_no_artifact_and_the_unprefixed_bucket_gets_none(ml_stack, prefixed_runs):
    first, second = (set(_keys(ml_stack, f"{p}stepbricks-mlflow")) for p in PREFIXES)
    assert first and second and not first & second
    unprefixed = _keys(ml_stack, BUCKETS["mlflow"])
    assert not [k for k in unprefixed if MODEL in k]
