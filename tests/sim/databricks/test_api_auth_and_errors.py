"""Auth and error shapes exactly as a workspace answers them (checklist: "Errors and rate limits")."""

from __future__ import annotations

import json
import re

import pytest
import requests

from sim.databricks import Workspace


def _routes(workspace: Workspace) -> list[tuple[str, str]]:
    """Every route of the app, from its OpenAPI document (which leaves out only the open well-known one)."""
    paths = workspace.app.openapi()["paths"]
    return [(m.upper(), p) for p, ops in paths.items() for m in ops] + [("GET", "/openapi.json")]


def test_every_route_answers_401_without_a_token(workspace: Workspace) -> None:
    routes = _routes(workspace)
    assert len(routes) > 60  # every API area under three versions, plus the fault API
    for method, path in routes:
        response = requests.request(method, workspace.host + path, json={}, timeout=10)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json() == {
            "error_code": 401,
            "message": "Credential was not sent or was of an unsupported type for this API.",
        }


def test_every_route_answers_403_for_a_wrong_token(workspace: Workspace) -> None:
    for method, path in _routes(workspace):
        response = requests.request(method, workspace.host + path, json={}, timeout=10,
                                    headers={"Authorization": "Bearer dapi-not-the-token"})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json() == {"error_code": 403, "message": "Invalid access token."}


def test_error_bodies_never_echo_the_token(workspace: Workspace) -> None:
    wrong = "dapi" + "f" * 32
    response = requests.get(workspace.host + "/api/2.1/jobs/list", headers={"Authorization": f"Bearer {wrong}"},
                            timeout=10)
    assert wrong not in response.text and workspace.token not in response.text


def test_well_known_config_is_open_and_names_the_workspace(workspace: Workspace) -> None:
    body = requests.get(workspace.host + "/.well-known/databricks-config", timeout=10).json()
    assert body["workspace_id"] and body["oidc_endpoint"] == f"{workspace.host}/oidc"


def test_openapi_document_is_served_to_token_holders(workspace: Workspace) -> None:
    doc = requests.get(workspace.host + "/openapi.json", timeout=10,
                       headers={"Authorization": f"Bearer {workspace.token}"}).json()
    assert "/api/2.1/jobs/run-now" in doc["paths"]


def _seed_000_payload() -> dict:
    """The body seed 000_9d7eca047549e35c's Lambda posts to /api/2.0/jobs/run-now: a notebook_task, no job_id."""
    return {"notebook_task": {"notebook_path": "/Shared/etl"}, "cluster_id": "0101-000000-abc",
            "notebook_params": {"input": "s3://stepbricks-raw/incoming/a.csv"}}


def test_seed_000_run_now_without_job_id_gets_the_workspace_400(workspace: Workspace) -> None:
    response = requests.post(workspace.host + "/api/2.0/jobs/run-now", json=_seed_000_payload(),
                             headers={"Authorization": f"Bearer {workspace.token}"}, timeout=10)
    assert response.status_code == 400
    # A workspace reads the missing job_id as 0 (astronomer/astronomer-providers#1254 quotes this body).
    assert response.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 0 does not exist."}


def test_body_is_parsed_as_json_whatever_the_content_type(workspace: Workspace) -> None:
    response = requests.post(workspace.host + "/api/2.0/jobs/create", data=json.dumps({"name": "text-json"}),
                             headers={"Authorization": f"Bearer {workspace.token}", "Content-Type": "text/json"},
                             timeout=10)
    assert response.status_code == 200 and isinstance(response.json()["job_id"], int)


def test_validation_error_names_the_bad_field_in_databricks_shape(workspace: Workspace) -> None:
    auth = {"Authorization": f"Bearer {workspace.token}"}
    response = requests.post(workspace.host + "/api/2.1/jobs/run-now", json={"job_id": "not-a-number"},
                             headers=auth, timeout=10)
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and "'job_id'" in body["message"]
    response = requests.post(workspace.host + "/api/2.1/jobs/reset", json={"job_id": 1}, headers=auth, timeout=10)
    assert response.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                               "message": "Missing required field: new_settings"}


def test_malformed_json_is_a_400_malformed_request(workspace: Workspace) -> None:
    response = requests.post(workspace.host + "/api/2.1/jobs/create", data="{not json",
                             headers={"Authorization": f"Bearer {workspace.token}"}, timeout=10)
    assert response.status_code == 400 and response.json()["error_code"] == "MALFORMED_REQUEST"


def test_unknown_endpoint_says_which_api_is_missing(workspace: Workspace) -> None:
    response = requests.get(workspace.host + "/api/2.1/jobs/nope",
                            headers={"Authorization": f"Bearer {workspace.token}"}, timeout=10)
    assert response.status_code == 404
    assert response.json() == {"error_code": "ENDPOINT_NOT_FOUND",
                               "message": "No API found for 'GET /api/2.1/jobs/nope'"}


@pytest.mark.parametrize("value", ["True", "TRUE", "true", "1"])
def test_query_booleans_are_case_insensitive(workspace: Workspace, value: str) -> None:
    response = requests.get(workspace.host + "/api/2.1/jobs/runs/list",
                            params={"active_only": value, "page_token": ""},
                            headers={"Authorization": f"Bearer {workspace.token}"}, timeout=10)
    assert response.status_code == 200, response.text
    assert re.fullmatch(r"\{.*\}", response.text)


def test_missing_job_becomes_resource_does_not_exist_in_the_sdk(client) -> None:
    from databricks.sdk.errors import ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist, match=r"Job 999999 does not exist\."):
        client.jobs.get(999999)
    with pytest.raises(ResourceDoesNotExist, match=r"Run 999999 does not exist\."):
        client.jobs.get_run(999999)
