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


def _planted_slot(stepbricks, env, root: Path, *, file: str, find: str, plant: str, function: str,
                  prefix: str) -> Slot:
    """A deployment under `prefix` whose `function` runs a copy of lambdas/ with one line changed."""
    shutil.copytree(PROJECT_ROOT / "lambdas", root / "lambdas", ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "lambdas" / file
    source = path.read_text()
    planted = source.replace(find, plant)
    assert planted != source, f"{file} changed shape: re-plant the bug"
    path.write_text(planted)
    (slot,) = prepare_slots(env, 1, prefixes=[prefix])
    lam = stepbricks.client("lambda")
    name = slot.deployment.functions[function].rsplit(":", 1)[-1]
    lam.update_function_code(FunctionName=name, ZipFile=build_lambda_zip(root))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    return slot


@pytest.fixture(scope="session")
def planted_slot(stepbricks, experiment_env, tmp_path_factory) -> Slot:
    """A deployment whose trigger names executions at random: a duplicate S3 delivery starts a second
    execution. Planted in a copy of the Lambdas, never in the shipped ones."""
    return _planted_slot(
        stepbricks, experiment_env, tmp_path_factory.mktemp("planted"), file="trigger_pipeline.py",
        find="    name = execution_name(bucket, key, etag)\n",
        plant="    import uuid\n    name = uuid.uuid4().hex  # planted bug: not derived from the object\n",
        function="trigger-pipeline", prefix="bug-")


@pytest.fixture(scope="session")
def planted_start_slot(stepbricks, experiment_env, tmp_path_factory) -> Slot:
    """A deployment whose start-job Lambda calls run-now without an idempotency token: a 503 after the
    run started ("it ran, the client saw an error") makes its retry start a second run."""
    return _planted_slot(
        stepbricks, experiment_env, tmp_path_factory.mktemp("planted-start"), file="_databricks.py",
        find='            "idempotency_token": idempotency_token,\n', plant="",
        function="start-databricks-job", prefix="bugstart-")


def make_runner(stepbricks, env, slots, **config) -> Runner:
    return Runner(stepbricks.simulator, env, slots, ExperimentConfig(**config))
