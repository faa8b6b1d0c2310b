"""Experiment runners on the session simulator: the shipped pipeline, and a copy with a planted bug."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.deploy import PROJECT_ROOT, build_lambda_zip
from harness.experiment.runner import ExperimentConfig, Runner, Slot, prepare_slots

HEADER = b"customer_id,signup_date,age,city,plan,tenure_months,monthly_charges,total_charges,support_calls,churned\n"


def header_only_input(path: Path, plan: object, config: object) -> dict:
    """A file the pipeline must reject on its invalid path: no Databricks run, so a flight takes seconds."""
    path.write_bytes(HEADER)
    return {"rejected": True}


@pytest.fixture(scope="session")
def experiment_env(stepbricks) -> dict[str, str]:
    sim = stepbricks.require_simulator("fault plans and the virtual clock")
    return {**stepbricks.env, **sim.env}


@pytest.fixture(scope="session")
def shipped_slots(stepbricks, experiment_env) -> list[Slot]:
    """Two deployments of the shipped pipeline (prefixes "" and x1-), one per concurrency slot."""
    return prepare_slots(experiment_env, 2)


@pytest.fixture(scope="session")
def planted_slot(stepbricks, experiment_env, tmp_path_factory) -> Slot:
    """A deployment whose trigger names executions at random: a duplicate S3 delivery starts a second
    execution. Planted in a copy of the Lambdas, never in the shipped ones."""
    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(PROJECT_ROOT / "lambdas", root / "lambdas", ignore=shutil.ignore_patterns("__pycache__"))
    trigger = root / "lambdas" / "trigger_pipeline.py"
    source = trigger.read_text()
    planted = source.replace("    name = execution_name(bucket, key, etag)\n",
                             "    import uuid\n    name = uuid.uuid4().hex  # planted bug: not derived from the object\n")
    assert planted != source, "the trigger changed shape: re-plant the bug"
    trigger.write_text(planted)
    (slot,) = prepare_slots(experiment_env, 1, prefixes=["bug-"])
    lam = stepbricks.client("lambda")
    name = slot.deployment.functions["trigger-pipeline"].rsplit(":", 1)[-1]
    lam.update_function_code(FunctionName=name, ZipFile=build_lambda_zip(root))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    return slot


@pytest.fixture(scope="session")
def planted_start_slot(stepbricks, experiment_env, tmp_path_factory) -> Slot:
    """A deployment whose start-job Lambda calls run-now without an idempotency token: a 503 after the
    run started ("it ran, the client saw an error") makes its retry start a second run."""
    root = tmp_path_factory.mktemp("planted-start")
    shutil.copytree(PROJECT_ROOT / "lambdas", root / "lambdas", ignore=shutil.ignore_patterns("__pycache__"))
    client = root / "lambdas" / "_databricks.py"
    source = client.read_text()
    planted = source.replace('            "idempotency_token": idempotency_token,\n', "")
    assert planted != source, "the client changed shape: re-plant the bug"
    client.write_text(planted)
    (slot,) = prepare_slots(experiment_env, 1, prefixes=["bugstart-"])
    lam = stepbricks.client("lambda")
    name = slot.deployment.functions["start-databricks-job"].rsplit(":", 1)[-1]
    lam.update_function_code(FunctionName=name, ZipFile=build_lambda_zip(root))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    return slot


def make_runner(stepbricks, env, slots, **config) -> Runner:
    return Runner(stepbricks.simulator, env, slots, ExperimentConfig(**config))
