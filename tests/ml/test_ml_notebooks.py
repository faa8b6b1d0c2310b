"""The ML notebooks run as Databricks notebook tasks on a real stepbricks cluster (a worker process with
a warm SparkSession and the real `dbutils`), against the moto S3 and SQLite MLflow of `ml_stack`.

One cluster start costs 15-25 s, so both notebooks run in one test, in pipeline order.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import mlflow
import pytest
from conftest import BUCKETS

from sim.compute import ClusterManager, TaskInvocation, TaskResult

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = PROJECT_ROOT / "ml" / "notebooks"
_run_ids = itertools.count(7000)

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(ml_stack, tmp_path_factory):
    env = {
        "AWS_ENDPOINT_URL": ml_stack.endpoint,
        "MLFLOW_S3_ENDPOINT_URL": ml_stack.endpoint,
        "MLFLOW_TRACKING_URI": ml_stack.tracking_uri,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DATABRICKS_CONFIG_FILE": os.devnull,
        "STEPBRICKS_STORAGE_MODE": "staged",
    }
    with ClusterManager(tmp_path_factory.mktemp("ml-compute"), env, cancel_grace_seconds=3) as pool:
        yield pool.get(pool.default_cluster_id())


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The pipeline packages as a Databricks Repo would hold them, outside the project root.

    Not the project root itself: the cluster forgets every module a task newly imported from under its
    sys_path, and the project root contains .venv, so a second task re-imports numpy/scipy extension
    modules and fails ("cannot load module more than once per process"); reported to the compute room.
    """
    root = tmp_path_factory.mktemp("repo")
    for package in ("ml", "etl"):
        (root / package).symlink_to(PROJECT_ROOT / package, target_is_directory=True)
    return root


def _run_notebook(cluster, repo: Path, name: str, widgets: dict[str, str]) -> TaskResult:
    invocation = TaskInvocation(
        run_id=next(_run_ids),
        task_key=name,
        attempt_number=0,
        kind="notebook",
        source_path=NOTEBOOKS / f"{name}.py",
        widgets=widgets,
        sys_path=[str(repo)],
    )
    result = cluster.run(invocation).wait(timeout=300)
    assert result is not None, f"{name} notebook did not finish in 300 s"
    return result


def test_train_then_evaluate_notebooks_exit_with_their_summaries_and_answer_the_task_token(
    ml_stack, customers, cluster, repo, waiting_task
):
    ml_stack.put_batch("notebooks/processed", customers, "nb")
    batch_uri = (
        f"s3://{BUCKETS['processed']}/notebooks/processed/batch_id=nb"  # what the ETL's output_uri names
    )

    trained = _run_notebook(
        cluster,
        repo,
        "train",
        {
            "processed_uri": batch_uri,
            "model_name": "churn-notebook",
            "models_root": f"s3://{BUCKETS['models']}/models",
            "seed": "7",
            "task_token": "",
        },
    )
    assert trained.outcome == "SUCCESS", trained.error_trace
    train_output = json.loads(trained.notebook_result)
    assert train_output["model_uri"] == f"models:/churn-notebook/{train_output['model_version']}"
    assert mlflow.MlflowClient().get_run(train_output["mlflow_run_id"]).data.params["seed"] == "7"

    evaluated = _run_notebook(
        cluster,
        repo,
        "evaluate",
        {
            "processed_uri": batch_uri,
            "model_name": "churn-notebook",
            "model_version": str(train_output["model_version"]),
            "results_root": f"s3://{BUCKETS['results']}/evaluation",
            "min_roc_auc": "0.70",
            "task_token": waiting_task.token,
        },
    )
    assert evaluated.outcome == "SUCCESS", evaluated.error_trace
    output = json.loads(evaluated.notebook_result)
    assert output["gate"]["passed"] is True
    assert output["champion_set"] is True
    assert output["metrics_uri"].startswith(f"s3://{BUCKETS['results']}/evaluation/churn-notebook/v")
    described = waiting_task.final()
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == output  # SendTaskSuccess carried the notebook's result


def test_a_missing_widget_fails_the_run_and_sends_task_failure_naming_the_widget(cluster, repo, waiting_task):
    widgets = {
        "processed_uri": "",
        "model_name": "m",
        "models_root": "/tmp/x",
        "task_token": waiting_task.token,
    }
    result = _run_notebook(cluster, repo, "train", widgets)
    assert result.outcome == "FAILED"
    assert "widget 'processed_uri' is required" in result.error
    described = waiting_task.final()
    assert described["status"] == "FAILED"
    # The error is what the state's Catch matches. moto 5.2.5 drops SendTaskFailure's cause (its response
    # handler does not pass it on; see tests/etl/test_etl_task_token.py), so the cause is not asserted.
    assert described["error"] == "ValueError"
