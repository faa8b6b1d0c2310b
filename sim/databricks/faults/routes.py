"""The fault control API under the reserved prefix `/api/2.0/stepbricks/faults` (token-checked like
every other route). It adds to and removes from the workspace's fault plan through `FaultList`, so what
fires lands in the plan's `applied` record like every other fault (docs/faults.md):

- `POST /api/2.0/stepbricks/faults` with a fault as JSON → `{"fault_id": n}`. HTTP fault:
  `{"pattern": "POST /api/2.*/jobs/run-now", "status_code": 429, "times": 1, "retry_after": 1}`;
  task fault: `{"kind": "task", "effect": "FAILED", "job_id": 1001, "task_key": "etl", "attempts": [0]}`.
- `GET /api/2.0/stepbricks/faults` → `{"faults": [...]}` with their counters (`seen`, `fired`).
- `POST /api/2.0/stepbricks/faults/delete {"fault_id": n}`; `POST /api/2.0/stepbricks/faults/reset`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from sim.databricks.backend import Backend, backend
from sim.databricks.errors import InvalidParameterValue, ResourceDoesNotExist
from sim.databricks.faults.models import fault_from_dict
from sim.databricks.http import json_body

PREFIX = "/api/2.0/stepbricks/faults"
router = APIRouter(prefix=PREFIX)


@router.post("")
def add(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    try:
        fault = fault_from_dict(body)
    except (TypeError, ValueError) as e:
        raise InvalidParameterValue(f"Invalid fault: {e}") from None
    return {"fault_id": b.faults.add(fault).fault_id}


@router.get("")
def list_faults(b: Backend = Depends(backend)) -> dict:
    return {"faults": b.faults.list()}


@router.post("/delete")
def delete(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    fault_id = body.get("fault_id")
    if not isinstance(fault_id, int):
        raise InvalidParameterValue("Missing required field: fault_id")
    if not b.faults.remove(fault_id):
        raise ResourceDoesNotExist(f"Fault {fault_id} does not exist.")
    return {}


@router.post("/reset")
def reset(b: Backend = Depends(backend)) -> dict:
    b.faults.reset()
    return {}
