"""The few MLflow calls the jobs make, kept in one place and kept cheap.

MLflow is configured by the environment only (`MLFLOW_TRACKING_URI`: `sqlite:///…` in the simulator,
`databricks` on a workspace; `MLFLOW_S3_ENDPOINT_URL` for S3 artifacts on a local S3). Experiments are
created with an S3 artifact location, because the SQLite store's default (`./mlruns` relative to the
cluster's working directory) would put artifacts where no other job can find them.

Several deployments can share one tracking store (harness.deploy's resource prefix, e.g. experiment
slots "x1-"): the jobs get the deployment's prefix as their `resource_prefix` parameter, and both the
experiment (`/Shared/stepbricks/{prefix}{model}`) and the default artifact root
(`s3://{prefix}stepbricks-mlflow`, the deployment's bucket) carry it. One experiment per deployment is
needed, not only one root: a run's artifacts go where its experiment's location says.

Cost notes (tests/ml/bench_ml.py): `mlflow.sklearn.log_model` infers pip requirements by loading the
model in a subprocess unless `pip_requirements` is given, so we pass them — log + register 0.8 s
instead of 9.4 s on the shared 2-core machine; the signature is inferred from five rows (milliseconds).
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any

__all__ = [
    "ARTIFACT_ROOT_ENV",
    "CHAMPION_ALIAS",
    "DEFAULT_ARTIFACT_ROOT",
    "default_artifact_root",
    "ensure_experiment",
    "experiment_name_for",
    "log_and_register",
    "mlflow_module",
]

CHAMPION_ALIAS = "champion"
ARTIFACT_ROOT_ENV = "STEPBRICKS_MLFLOW_ARTIFACT_ROOT"
ARTIFACT_BUCKET = "stepbricks-mlflow"  # docs/contracts.md; a deployment's carries its prefix
DEFAULT_ARTIFACT_ROOT = f"s3://{ARTIFACT_BUCKET}"
# MLflow's default on Databricks, so the simulator logs what production logs. skops (the default
# elsewhere) refuses HistGradientBoosting's TreePredictor unless told to trust it, which buys nothing
# for a model this job wrote itself.
SERIALIZATION_FORMAT = "cloudpickle"


def mlflow_module():
    """`import mlflow` costs ~2 s: paid only by the jobs that log, not by importers of `ml`."""
    import mlflow

    return mlflow


def default_artifact_root(resource_prefix: str = "") -> str:
    """`s3://{resource_prefix}stepbricks-mlflow`: the MLflow bucket of the deployment with that prefix."""
    return f"s3://{resource_prefix}{ARTIFACT_BUCKET}"


def experiment_name_for(model_name: str, override: str | None = None, resource_prefix: str = "") -> str:
    """`/Shared/stepbricks/{resource_prefix}{model_name}` — a valid workspace path on Databricks, a plain
    name elsewhere — unless `override` or `MLFLOW_EXPERIMENT_NAME` names one."""
    return (
        override
        or os.environ.get("MLFLOW_EXPERIMENT_NAME")
        or f"/Shared/stepbricks/{resource_prefix}{model_name}"
    )


def _artifact_location(experiment_name: str, artifact_root: str | None, resource_prefix: str) -> str | None:
    mlflow = mlflow_module()
    root = artifact_root or os.environ.get(ARTIFACT_ROOT_ENV)
    if root is None:
        if mlflow.get_tracking_uri().startswith("databricks"):
            return None  # the workspace manages experiment artifacts itself
        root = default_artifact_root(resource_prefix)
    return f"{root.rstrip('/')}/{experiment_name.strip('/')}"


def ensure_experiment(experiment_name: str, artifact_root: str | None = None, resource_prefix: str = "") -> str:
    """The experiment's id, creating it (with its S3 artifact location) on first use.

    The location is `artifact_root`, else `STEPBRICKS_MLFLOW_ARTIFACT_ROOT`, else the deployment's
    bucket (`default_artifact_root(resource_prefix)`), followed by the experiment's name.

    Two jobs may race to create it: the loser re-reads the winner's experiment instead of failing.
    """
    mlflow = mlflow_module()
    from mlflow.exceptions import MlflowException

    existing = mlflow.get_experiment_by_name(experiment_name)
    if existing is not None:
        return existing.experiment_id
    try:
        return mlflow.create_experiment(
            experiment_name, artifact_location=_artifact_location(experiment_name, artifact_root, resource_prefix)
        )
    except MlflowException:
        existing = mlflow.get_experiment_by_name(experiment_name)
        if existing is None:
            raise
        return existing.experiment_id


def _pip_requirements() -> list[str]:
    packages = ("mlflow", "scikit-learn", "cloudpickle", "pandas", "numpy")
    return [f"{p}=={metadata.version(p)}" for p in packages]


def log_and_register(pipeline: Any, input_example: Any, model_name: str):
    """Log the fitted pipeline to the active run and register it as a new version of `model_name`.

    Returns MLflow's `ModelInfo` (`.registered_model_version`, `.model_uri`, `.model_id`).
    """
    mlflow = mlflow_module()
    from mlflow.models import infer_signature

    signature = infer_signature(input_example, pipeline.predict_proba(input_example)[:, 1])
    return mlflow.sklearn.log_model(
        pipeline,
        name="model",
        registered_model_name=model_name,
        signature=signature,
        serialization_format=SERIALIZATION_FORMAT,
        pip_requirements=_pip_requirements(),
    )


def load_model(model_name: str, model_version: int | str) -> Any:
    """The registered sklearn pipeline, downloaded from the artifact store."""
    mlflow = mlflow_module()
    return mlflow.sklearn.load_model(f"models:/{model_name}/{model_version}")
