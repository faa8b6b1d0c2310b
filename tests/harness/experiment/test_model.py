"""The fault model: seeded, serialisable, bound per deployment so concurrent plans do not collide."""

from __future__ import annotations

from harness.experiment.model import (
    DUPLICATE_DELIVERY,
    ExperimentPlan,
    FaultModel,
    PlannedFault,
)
from harness.experiment.runner import batches


def test_same_seed_draws_the_same_plans_and_another_seed_other_plans():
    model = FaultModel()
    first = [p.to_dict() for p in model.draw_many(7, 50)]
    again = [p.to_dict() for p in model.draw_many(7, 50)]
    other = [p.to_dict() for p in model.draw_many(8, 50)]
    assert first == again
    assert first != other


def test_two_hundred_plans_cover_every_fault_kind_of_the_issue():
    plans = FaultModel().draw_many(7, 200)
    labels = {f.label for p in plans for f in p.faults}
    for expected in ("Lambda error", "Lambda throttled", "Lambda timeout", "S3 5xx", "API throttling",
                     "Databricks task failure", "slow cluster start", "worker killed mid-task",
                     "workspace 429", "S3 event delivered again"):
        assert expected in labels, expected
    outcomes = {p.expects_success for p in plans}
    assert outcomes == {True, False, None}  # None: a worker kill on a short task may land or not


def test_a_plan_survives_a_round_trip_through_its_plan_file(tmp_path):
    plan = FaultModel().draw_many(3, 30)[-1]
    path = plan.save(tmp_path / "plan.json", invariants=["one_run_per_job"])
    assert ExperimentPlan.load(path) == plan


def test_faults_are_bound_to_the_deployment_prefix_so_slots_do_not_collide():
    plan = ExperimentPlan(0, faults=(
        PlannedFault("lambda", "check-databricks-job", {"error": "Lambda.ServiceException"}, (2, 3)),
        PlannedFault("databricks_task", "etl", {"result_state": "FAILED"}, (1,), detail="etl"),
    ))
    bound = plan.fault_plan("x1-")
    assert [str(f.target) for f in bound.faults] == [
        "lambda:x1-stepbricks-check-databricks-job", "databricks_task:x1-stepbricks-etl/etl"]
    assert bound.faults[0].attempts == frozenset({2, 3})
    assert bound.faults[0].label.startswith("plan 0:")


def test_a_plan_with_unscopable_faults_runs_in_a_batch_of_its_own():
    local = [ExperimentPlan(i, faults=(PlannedFault(DUPLICATE_DELIVERY, "s3-event", {"redeliver": True}),))
             for i in range(3)]
    global_plan = ExperimentPlan(9, faults=(PlannedFault("aws", "s3", {"throttle": True}, detail="GetObject"),))
    grouped = batches([local[0], global_plan, local[1], local[2]], 2)
    assert [[p.index for p in b] for b in grouped] == [[9], [0, 1], [2]]


def test_fewer_attempts_can_bring_a_fault_back_within_the_retries():
    exhausting = PlannedFault("lambda", "start-databricks-job", {"error": "Lambda.ServiceException"},
                              (1, 2, 3, 4), hard=True)
    assert exhausting.with_attempts((1, 2, 3)).hard is False
    etl_twice = PlannedFault("databricks_task", "etl", {"internal_error": True}, (1, 2), detail="etl", hard=True)
    assert etl_twice.with_attempts((1,)).hard is False  # the ETL task retries once


def test_workspace_http_faults_become_databricks_http_faults_of_the_one_plan():
    plan = ExperimentPlan(0, faults=(PlannedFault("workspace_http", "POST /api/2.*/jobs/run-now",
                                                  {"status_code": 503, "retry_after": 0, "after_handler": True},
                                                  (2, 3)),))
    [fault] = plan.fault_plan("exp-0-").to_dict()["faults"]
    assert fault == {"target": {"kind": "databricks_http", "name": "POST /api/2.*/jobs/run-now"},
                     "attempts": [2, 3], "label": "plan 0: workspace_http",
                     "effect": {"status_code": 503, "retry_after": 0, "after_handler": True}}


def test_a_timed_out_task_is_hard_even_where_a_failed_one_is_retried():
    timed_out = PlannedFault("databricks_task", "etl", {"timeout": True}, (1, 2), detail="etl", hard=True)
    assert timed_out.with_attempts((1,)).hard is True  # retry_on_timeout is false in resources/jobs.yml


def test_a_hard_fault_pre_empted_by_an_earlier_fault_on_the_same_attempt_may_not_land():
    """Found by the 200-plan run (seed 7, plan 91): a slow start took train's only attempt, so the
    INTERNAL_ERROR planned for it never fired and the execution rightly succeeded."""
    slow = PlannedFault("databricks_task", "train", {"slow_start_seconds": 300}, (1,), detail="train")
    broken = PlannedFault("databricks_task", "train", {"internal_error": True}, (1, 2), detail="train", hard=True)
    assert ExperimentPlan(91, faults=(slow, broken)).expects_success is None
    assert ExperimentPlan(91, faults=(broken, slow)).expects_success is False
    assert FaultModel().draw_many(7, 92)[91].expects_success is None
