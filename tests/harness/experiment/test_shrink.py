"""The shrinker, against oracles whose answer is known (each flight is replaced by a predicate)."""

from __future__ import annotations

from harness.experiment.model import ExperimentPlan, PlannedFault
from harness.experiment.shrink import shrink

DUP = PlannedFault("duplicate_delivery", "s3-event", {"redeliver": True}, (1, 2))
NOISE = (
    PlannedFault("lambda", "validate-file", {"error": "Lambda.ServiceException"}, (1, 2)),
    PlannedFault("databricks_task", "train", {"slow_start_seconds": 300}, (1,), detail="train"),
)


def test_a_violation_caused_by_one_fault_shrinks_to_that_fault_on_its_first_attempt():
    plan = ExperimentPlan(4, faults=(NOISE[0], DUP, NOISE[1]))
    flights = []

    def reproduces(candidate: ExperimentPlan) -> bool:
        flights.append(candidate)
        return any(f.kind == "duplicate_delivery" for f in candidate.faults)

    result = shrink(plan, reproduces)

    assert result.minimal.faults == (PlannedFault("duplicate_delivery", "s3-event", {"redeliver": True}, (1,)),)
    assert result.tried == len(flights)
    assert result.steps and all(isinstance(s, str) for s in result.steps)


def test_shrinking_keeps_every_fault_the_violation_needs():
    a = PlannedFault("lambda", "check-databricks-job", {"error": "Lambda.ServiceException"}, (3, 4))
    b = PlannedFault("workspace_http", "GET /api/2.*/jobs/runs/get", {"status_code": 429}, (1,))
    plan = ExperimentPlan(0, faults=(a, NOISE[1], b))

    def needs_both(candidate: ExperimentPlan) -> bool:
        kinds = {f.kind for f in candidate.faults}
        return {"lambda", "workspace_http"} <= kinds

    minimal = shrink(plan, needs_both).minimal
    assert {f.kind for f in minimal.faults} == {"lambda", "workspace_http"}
    lam = next(f for f in minimal.faults if f.kind == "lambda")
    assert lam.attempts == (1,)  # fewer and earlier attempts


def test_the_budget_bounds_the_number_of_flights():
    plan = ExperimentPlan(0, faults=(NOISE[0], DUP, NOISE[1]))
    result = shrink(plan, lambda _c: False, budget=2)
    assert result.tried == 2
    assert result.minimal == plan
