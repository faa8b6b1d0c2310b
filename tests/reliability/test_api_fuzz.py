"""schemathesis against the fake workspace's own OpenAPI document: no request, however odd, gets a 5xx,
and every 4xx is shaped like a workspace error ({"error_code", "message"}), as databricks-sdk parses it.

The document is used as the workspace serves it: its request bodies are the handlers' own models and
its GET operations list the Databricks query parameters (`sim/databricks/openapi_shapes.py`), although
the handlers read raw JSON. Each operation is fuzzed in both of schemathesis' modes: positive (requests
that fit the document, so they reach the backends) and negative (wrong types, missing required fields,
odd strings) — the second is what must never turn into FastAPI's 422 or a 5xx. A private workspace (not
the session's) takes the abuse. Operations that start compute (run-now,
runs/submit, clusters/create|start) and the fault control API (a fuzzed fault would answer later calls
with a 5xx on purpose) are left out; the /api/2.1 surface stands for 2.0 and 2.2 (the same handlers).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from sim.databricks import Workspace

EXAMPLES_PER_MODE = 20  # 28 operations x 2 modes x 20 ≈ 1100 requests: about 20 s here
SKIPPED = ("/jobs/run-now", "/jobs/runs/submit", "/clusters/create", "/clusters/start", "/stepbricks/")


@pytest.fixture(scope="module")
def private_workspace(tmp_path_factory):
    with Workspace.start(state_dir=Path(tmp_path_factory.mktemp("fuzz-workspace"))) as workspace:
        yield workspace


def _served_document(workspace: Workspace) -> dict:
    auth = {"Authorization": f"Bearer {workspace.token}"}
    return requests.get(f"{workspace.host}/openapi.json", headers=auth, timeout=10).json()


def _operations(workspace: Workspace) -> list:
    schema = schemathesis.openapi.from_dict(_served_document(workspace))
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/2.1/") and not any(s in operation.path for s in SKIPPED):
            operations.append(operation)
    return operations


def test_served_document_describes_request_bodies_and_query_parameters(private_workspace):
    paths = _served_document(private_workspace)["paths"]
    repair = paths["/api/2.1/jobs/runs/repair"]["post"]
    assert repair["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("RepairRequest")
    assert {p["name"] for p in paths["/api/2.2/jobs/runs/get"]["get"]["parameters"]} >= {
        "run_id", "include_history", "page_token"}
    assert not [(p, m) for p, item in paths.items() for m, op in item.items() if "422" in op["responses"]]


def test_fuzzed_requests_never_get_a_5xx_and_every_4xx_is_a_workspace_error(private_workspace):
    auth = {"Authorization": f"Bearer {private_workspace.token}"}
    operations = _operations(private_workspace)
    assert len(operations) >= 20, [o.path for o in operations]
    problems: list[str] = []
    sent = {GenerationMode.POSITIVE: 0, GenerationMode.NEGATIVE: 0}

    def fuzz_one(operation, mode: GenerationMode) -> None:
        @settings(max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case) -> None:
            response = case.call(base_url=private_workspace.host, headers=auth, timeout=10)
            sent[mode] += 1
            where = f"{operation.method.upper()} {operation.path} {case.query or ''} {str(case.body)[:120]}"
            if response.status_code == 422:
                problems.append(f"FastAPI's 422 for {where}: {response.text[:200]}")
            elif response.status_code >= 500:
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
        fuzz_one(operation, GenerationMode.POSITIVE)
        try:
            fuzz_one(operation, GenerationMode.NEGATIVE)
        except Unsatisfiable:  # nothing to get wrong (no parameters, a body that takes any object)
            pass

    # schemathesis really varied the requests, in both modes
    assert sent[GenerationMode.POSITIVE] >= len(operations) * 10, sent
    assert sent[GenerationMode.NEGATIVE] >= len(operations) * 10, sent
    assert not problems, "\n".join(problems[:20])
