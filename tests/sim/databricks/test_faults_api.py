"""The fault control API over HTTP: faults are data, first match wins, offset/times honoured, reset clears."""

from __future__ import annotations

import requests

from sim.databricks import Workspace
from sim.databricks.faults.models import FaultList, HttpFault


def _auth(workspace: Workspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {workspace.token}"}


def test_http_fault_answers_503_with_retry_after_for_the_next_calls_only(workspace: Workspace) -> None:
    fault = requests.post(workspace.host + "/api/2.0/stepbricks/faults", headers=_auth(workspace), timeout=10,
                          json={"pattern": "GET /api/2.1/jobs/list", "status_code": 503, "times": 2,
                                "offset": 1, "retry_after": 7}).json()
    codes, retry_after = [], []
    for _ in range(4):
        response = requests.get(workspace.host + "/api/2.1/jobs/list", headers=_auth(workspace), timeout=10)
        codes.append(response.status_code)
        retry_after.append(response.headers.get("Retry-After"))
    assert codes == [200, 503, 503, 200] and retry_after[1] == "7"
    listed = requests.get(workspace.host + "/api/2.0/stepbricks/faults", headers=_auth(workspace), timeout=10)
    [listed_fault] = listed.json()["faults"]
    assert listed_fault["fault_id"] == fault["fault_id"] and listed_fault["fired"] == 2


def test_after_handler_fault_applies_the_change_then_fails(workspace: Workspace) -> None:
    workspace.faults.http("POST /api/2.1/jobs/create", 503, after_handler=True)
    before = len(workspace.backend.jobs._jobs)
    response = requests.post(workspace.host + "/api/2.1/jobs/create", json={"name": "ghost-write"},
                             headers=_auth(workspace), timeout=10)
    assert response.status_code == 503 and response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert len(workspace.backend.jobs._jobs) == before + 1


def test_reset_over_http_clears_every_fault(workspace: Workspace) -> None:
    workspace.faults.http("GET /api/2.1/jobs/list", 429, times=None)
    requests.post(workspace.host + "/api/2.0/stepbricks/faults/reset", headers=_auth(workspace), timeout=10)
    assert requests.get(workspace.host + "/api/2.1/jobs/list", headers=_auth(workspace), timeout=10).ok


def test_invalid_fault_is_a_400_naming_the_field(workspace: Workspace) -> None:
    response = requests.post(workspace.host + "/api/2.0/stepbricks/faults", headers=_auth(workspace), timeout=10,
                             json={"pattern": "GET /x", "colour": "red"})
    assert response.status_code == 400 and "colour" in response.json()["message"]


def test_first_matching_fault_wins() -> None:
    faults = FaultList()
    first = faults.add(HttpFault("POST /api/*", 429))
    faults.add(HttpFault("POST /api/2.1/jobs/run-now", 503))
    assert faults.take_http("POST", "/api/2.1/jobs/run-now") is first


def test_a_fault_set_through_workspace_faults_is_recorded_in_the_plans_applied_record(workspace: Workspace) -> None:
    fault = workspace.faults.http("GET /api/2.*/jobs/list", 429, times=1, retry_after=2)
    before = len(workspace.faults.plan.applied)
    assert requests.get(workspace.host + "/api/2.1/jobs/list", headers=_auth(workspace), timeout=10).status_code == 429
    [applied] = workspace.faults.plan.applied[before:]
    assert (applied.target, applied.occurrence, applied.label) == (
        "databricks_http:GET /api/2.1/jobs/list", 1, f"workspace fault {fault.fault_id}")
    assert applied.effect == {"status_code": 429, "retry_after": 2, "after_handler": False}


def test_a_fault_set_over_http_is_a_fault_of_the_plan_and_recorded_when_it_fires(workspace: Workspace) -> None:
    fault_id = requests.post(workspace.host + "/api/2.0/stepbricks/faults", headers=_auth(workspace), timeout=10,
                             json={"pattern": "POST /api/2.1/jobs/create", "status_code": 503}).json()["fault_id"]
    [held] = [f for f in workspace.faults.plan.faults if f.label == f"workspace fault {fault_id}"]
    assert (held.target.kind, held.target.name, held.times) == ("databricks_http", "POST /api/2.1/jobs/create", 1)
    before = len(workspace.faults.plan.applied)
    response = requests.post(workspace.host + "/api/2.1/jobs/create", json={"name": "refused"},
                             headers=_auth(workspace), timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert [(a.target, a.label) for a in workspace.faults.plan.applied[before:]] == [
        ("databricks_http:POST /api/2.1/jobs/create", f"workspace fault {fault_id}")]
    requests.post(workspace.host + "/api/2.0/stepbricks/faults/delete", json={"fault_id": fault_id},
                  headers=_auth(workspace), timeout=10).raise_for_status()
    assert held not in workspace.faults.plan.faults


def test_a_task_faults_zero_based_attempts_become_the_plans_one_based_attempts() -> None:
    faults = FaultList()
    faults.task("FAILED", job_id=7, task_key="etl", attempts=[0, 2])
    [held] = faults.plan.faults
    assert (held.target.job_id, held.target.detail, held.attempts) == (7, "etl", frozenset({1, 3}))
    outcomes = [faults.take_task(job_id=7, job_name="nightly", task_key="etl", attempt=n) for n in range(3)]
    assert [o.effect if o else None for o in outcomes] == ["FAILED", None, "FAILED"]
    assert [a.occurrence for a in faults.plan.applied] == [1, 3]


def test_a_simulators_workspace_follows_its_context_plan_and_a_standalone_one_owns_its_own() -> None:
    from sim import context as sim_context
    from sim.faults import FaultPlan

    ctx = sim_context.SimContext(name="faults-test")
    in_simulator = FaultList.for_context(ctx)
    in_simulator.http("GET /api/2.1/jobs/list", 429)
    assert [f.target.kind for f in ctx.faults.faults] == ["databricks_http"]
    ctx.faults = FaultPlan()  # sim.faults.activate: the workspace follows the plan now in force
    assert in_simulator.plan is ctx.faults
    first, second = FaultList.for_context(sim_context.base()), FaultList.for_context(sim_context.base())
    first.http("GET /api/2.1/jobs/list", 429)
    assert second.plan.faults == [] and sim_context.base().faults is not first.plan
