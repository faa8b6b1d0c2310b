"""Every shrunk plan saved under regressions/ is flown against the shipped pipeline, which must pass it.
A plan file records the input it needs (`rejected`: a file the pipeline turns away, fast; `generated`:
customer data through the whole pipeline) and the invariants it once broke."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.experiment.model import ExperimentPlan
from harness.experiment.runner import generated_input
from tests.reliability.conftest import header_only_input, make_runner

pytestmark = pytest.mark.e2e

REGRESSIONS = sorted((Path(__file__).resolve().parents[2] / "regressions").glob("*.json"))


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_shipped_pipeline_passes_the_saved_regression_plan(stepbricks, experiment_env, shipped_slots, path):
    saved = json.loads(path.read_text())
    make_input = header_only_input if saved.get("input") == "rejected" else generated_input
    runner = make_runner(stepbricks, experiment_env, shipped_slots[:1], make_input=make_input, rows=1000)
    plan = ExperimentPlan.load(path)

    verdict = runner.run_one(plan)

    assert verdict.ok, verdict.violations
    fired = {a["target"].split(":", 1)[0] for a in verdict.applied}
    assert len(fired) == len({f.kind for f in plan.faults}), f"a fault never fired: {verdict.applied}"


def test_there_are_regression_plans_to_fly():
    assert REGRESSIONS
