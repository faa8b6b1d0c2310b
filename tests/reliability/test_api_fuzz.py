"""schemathesis against the fake workspace's own OpenAPI document: no request, however odd, gets a 5xx,
and every 4xx is shaped like a workspace error ({"error_code", "message"}), as databricks-sdk parses it.

The workspace's document lists its operations but no request shapes (its handlers read raw JSON), so
each operation is given the Databricks API's field names with *any* JSON value (`{}` schemas): that is
what makes schemathesis send wrong types, missing fields and odd strings. A private workspace (not the
session's) takes the abuse. Operations that start compute (run-now,
runs/submit, clusters/create|start) and the fault control API (a fuzzed fault would answer later calls
with a 5xx on purpose) are left out; the /api/2.1 surface stands for 2.0 and 2.2 (the same handlers).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from sim.databricks import Workspace

EXAMPLES_PER_OPERATION = 40  # 28 operations x 40 ≈ 1100 requests: about 20 s here
SKIPPED = ("/jobs/run-now", "/jobs/runs/submit", "/clusters/create", "/clusters/start", "/stepbricks/")


@pytest.fixture(scope="module")
def private_workspace(tmp_path_factory):
    with Workspace.start(state_dir=Path(tmp_path_factory.mktemp("fuzz-workspace"))) as workspace:
        yield workspace


# Request fields of the Jobs, Secrets, Workspace and Clusters APIs (docs.databricks.com/api/workspace).
FIELDS = ("job_id", "run_id", "name", "settings", "new_settings", "fields_to_remove", "tasks", "job_parameters",
          "idempotency_token", "limit", "offset", "active_only", "expand_tasks", "scope", "key", "string_value",
          "bytes_value", "path", "format", "language", "content", "overwrite", "recursive", "cluster_id",
          "cluster_name", "include_history", "all_queued_runs")


def _with_request_shapes(spec: dict) -> dict:
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method == "get":
                operation["parameters"] = [{"name": f, "in": "query", "required": False, "schema": {"type": "string"}}
                                           for f in FIELDS]
            else:
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {f: {} for f in FIELDS}}}}}
    return spec


def _operations(workspace: Workspace) -> list:
    auth = {"Authorization": f"Bearer {workspace.token}"}
    spec = requests.get(f"{workspace.host}/openapi.json", headers=auth, timeout=10).json()
    schema = schemathesis.openapi.from_dict(_with_request_shapes(spec))
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/2.1/") and not any(s in operation.path for s in SKIPPED):
            operations.append(operation)
    return operations


def test_fuzzed_requests_never_get_a_5xx_and_every_4xx_is_a_workspace_error(private_workspace):
    auth = {"Authorization": f"Bearer {private_workspace.token}"}
    operations = _operations(private_workspace)
    assert len(operations) >= 20, [o.path for o in operations]
    problems: list[str] = []
    sent = [0]

    def fuzz_one(operation) -> None:
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case) -> None:
            response = case.call(base_url=private_workspace.host, headers=auth, timeout=10)
            sent[0] += 1
            where = f"{operation.method.upper()} {operation.path} {case.query or ''} {str(case.body)[:120]}"
            if response.status_code >= 500:
                problems.append(f"{response.status_code} for {where}: {response.text[:200]}")
            elif response.status_code >= 400:
                try:
                    body = response.json()
                except ValueError:
                    body = None
                if not isinstance(body, dict) or not {"error_code", "message"} <= body.keys():
                    problems.append(f"{response.status_code} not a workspace error for {where}: {response.text[:200]}")

        fuzz()

    for operation in operations:
        fuzz_one(operation)

    assert sent[0] >= len(operations) * 20  # schemathesis really varied the requests
    assert not problems, "\n".join(problems[:20])
