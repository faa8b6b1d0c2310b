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
