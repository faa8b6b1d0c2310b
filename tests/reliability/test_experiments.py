"""The experiment runner on the real simulator: it finds a planted bug, shrinks it to one fault, saves a
plan a regression test loads, and gives the same verdicts for the same seed."""

from __future__ import annotations

import json

import pytest

from harness.experiment.experiment import run_experiment
from harness.experiment.model import DUPLICATE_DELIVERY, ExperimentPlan, FaultModel, PlannedFault
from harness.experiment.runner import ExperimentConfig
from tests.reliability.conftest import header_only_input, make_runner

pytestmark = pytest.mark.e2e

# Faults that reach an invalid input's path (ValidateFile → NotifyInvalidFile) plus duplicate deliveries.
REJECTION_MODEL = FaultModel(weights={"lambda_error": 2, "lambda_delay": 1, "duplicate_delivery": 2})


def _first_seed_with_duplicate_delivery(plans: int) -> int:
    for seed in range(100):
        drawn = REJECTION_MODEL.draw_many(seed, plans)
        if any(f.kind == DUPLICATE_DELIVERY for f in drawn[0].faults + drawn[1].faults):
            return seed
    raise AssertionError("no seed draws a duplicate delivery")


def test_runner_finds_a_trigger_without_idempotent_names_and_shrinks_it_to_one_fault(
    stepbricks, experiment_env, planted_slot, tmp_path
):
    runner = make_runner(stepbricks, experiment_env, [planted_slot], make_input=header_only_input)
    seed = _first_seed_with_duplicate_delivery(3)

    result = run_experiment(runner, plans=3, seed=seed, model=REJECTION_MODEL, out=tmp_path)

    assert result.violations["one_execution_per_input"] >= 1
    finding = next(f for f in result.findings if "one_execution_per_input" in f.verdict.violations)
    minimal = finding.shrunk.minimal
    assert [f.kind for f in minimal.faults] == [DUPLICATE_DELIVERY]
    assert minimal.faults[0].attempts == (1,)  # one extra delivery is enough
    assert ExperimentPlan.load(finding.plan_file) == minimal
    saved = json.loads(finding.plan_file.read_text())
    assert "one_execution_per_input" in saved["invariants"]
    html = finding.report_file.read_text()
    assert "ValidateFile" in html and "s3-event" in html and "one_execution_per_input" in html
    assert stepbricks.env["DATABRICKS_TOKEN"] not in html


def test_the_shrunk_plan_file_is_a_regression_test_the_shipped_trigger_passes(
    stepbricks, experiment_env, shipped_slots, planted_slot, tmp_path
):
    plan = ExperimentPlan(0, faults=(PlannedFault(DUPLICATE_DELIVERY, "s3-event", {"redeliver": True}, (1,)),))
    path = plan.save(tmp_path / "regression.json")

    planted = make_runner(stepbricks, experiment_env, [planted_slot], make_input=header_only_input)
    shipped = make_runner(stepbricks, experiment_env, shipped_slots[:1], make_input=header_only_input)

    assert "one_execution_per_input" in planted.run_one(ExperimentPlan.load(path)).violations
    verdict = shipped.run_one(ExperimentPlan.load(path))
    assert verdict.ok, verdict.violations
    assert [a["target"] for a in verdict.applied] == ["s3-event"]


def test_same_seed_gives_the_same_plans_and_the_same_verdicts(stepbricks, experiment_env, planted_slot):
    runner = make_runner(stepbricks, experiment_env, [planted_slot], make_input=header_only_input)
    seed = _first_seed_with_duplicate_delivery(2)

    first = run_experiment(runner, plans=2, seed=seed, model=REJECTION_MODEL, shrink_violations=False)
    second = run_experiment(runner, plans=2, seed=seed, model=REJECTION_MODEL, shrink_violations=False)

    assert [v.plan for v in first.verdicts] == [v.plan for v in second.verdicts]
    assert first.signatures() == second.signatures()
    assert any(not v.ok for v in first.verdicts)  # the comparison is not between two empty verdicts


def test_concurrent_plans_keep_their_faults_to_their_own_execution(stepbricks, experiment_env, shipped_slots):
    runner = make_runner(stepbricks, experiment_env, shipped_slots, make_input=header_only_input)
    noisy = ExperimentPlan(0, faults=(
        PlannedFault("lambda", "validate-file", {"error": "Lambda.ServiceException"}, (1, 2)),))
    quiet = ExperimentPlan(1)

    verdicts = runner.run([noisy, quiet])

    assert all(v.ok for v in verdicts), [v.violations for v in verdicts]
    assert [a["occurrence"] for a in verdicts[0].applied] == [1, 2]
    assert verdicts[1].applied == []
    retried = [visit.attempts for visit in verdicts[0].observation.trace.visits if visit.name == "ValidateFile"]
    assert retried == [3]
    assert [visit.attempts for visit in verdicts[1].observation.trace.visits if visit.name == "ValidateFile"] == [1]


def test_slots_on_simulators_of_their_own_fly_side_by_side_even_plans_with_unscopable_faults(
    stepbricks, experiment_env, shipped_slots
):
    """An AWS API fault reaches every deployment of one simulator (its plan runs alone there); on a
    simulator of its own it reaches nothing else, so the runner flies it beside the other slot's plan."""
    import threading
    import time

    from harness.deploy import DeployConfig, deploy
    from harness.experiment.runner import Runner, Slot
    from sim.simulator import Simulator

    started: dict[int, float] = {}
    lock = threading.Lock()

    def timed_input(path, plan, config):
        with lock:
            started[plan.index] = time.monotonic()
        return header_only_input(path, plan, config)

    with Simulator.start(warm_cluster=False) as other:  # header-only files never reach a cluster
        env = {**experiment_env, **other.env}
        slots = [shipped_slots[0], Slot(1, deploy(env, DeployConfig()), sim=other, env=env)]
        runner = Runner(stepbricks.simulator, experiment_env, slots, ExperimentConfig(make_input=timed_input))
        throttled = ExperimentPlan(0, faults=(
            PlannedFault("aws", "states", {"throttle": True}, (1,), detail="StartExecution"),))
        quiet = ExperimentPlan(1)

        verdicts = runner.run([throttled, quiet])

    assert [v.plan.index for v in verdicts] == [0, 1]
    assert all(v.ok for v in verdicts), [v.violations for v in verdicts]
    assert [(a["target"], a["occurrence"]) for a in verdicts[0].applied] == [("aws:states/StartExecution", 1)]
    assert verdicts[1].applied == []  # the other simulator's plan never saw the throttle
    first, second = (started[i] for i in (0, 1))
    assert second < first + verdicts[0].wall_seconds and first < second + verdicts[1].wall_seconds, \
        "the two flights did not overlap"


@pytest.mark.slow
def test_shipped_pipeline_passes_random_fault_plans_with_no_violations(stepbricks, experiment_env, shipped_slots):
    """STEPBRICKS_EXPERIMENT_PLANS (default 4) full flights; bench/bench_experiment.py runs 200."""
    import os

    plans = int(os.environ.get("STEPBRICKS_EXPERIMENT_PLANS", "4"))
    runner = make_runner(stepbricks, experiment_env, shipped_slots, rows=1000)

    result = run_experiment(runner, plans=plans, seed=7, shrink_violations=False)

    details = {v.plan.index: (v.status, v.violations, [f.describe() for f in v.plan.faults])
               for v in result.verdicts if not v.ok}
    assert not details, details
    assert sum(result.faults_by_kind.values()) > 0


@pytest.mark.slow
def test_runner_finds_a_start_job_lambda_without_idempotency_token_and_shrinks_it_to_the_lost_answer(
    stepbricks, experiment_env, planted_start_slot, tmp_path
):
    lost_answer = PlannedFault("workspace_http", "POST /api/2.*/jobs/run-now",
                               {"status_code": 503, "retry_after": 0, "after_handler": True}, (1,))
    noise = PlannedFault("lambda", "send-notification", {"delay_seconds": 20}, (1,))
    runner = make_runner(stepbricks, experiment_env, [planted_start_slot], rows=1000)
    verdict = runner.run_one(ExperimentPlan(0, faults=(noise, lost_answer)))
    assert "one_run_per_job" in verdict.violations, verdict.violations

    from harness.experiment.experiment import minimize

    finding = minimize(runner, verdict, out=tmp_path)

    assert finding.shrunk.minimal.faults == (lost_answer,)
    assert "one_run_per_job" in finding.minimal_verdict.violations
    assert finding.report_file is not None and "run-now" in finding.report_file.read_text()
