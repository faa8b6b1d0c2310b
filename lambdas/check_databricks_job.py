"""Report a Databricks run's state for the state machine's poll loop, with its output once it succeeded.

Input: {run_id, task_key?}
Output: {run_id, life_cycle_state, result_state, state_message, is_complete, is_successful, output}

`output` is the task's `dbutils.notebook.exit` value (`notebook_output.result`) parsed as JSON, read
with runs/get-output on the *task* run: the parent of a multi-task run answers 400. With several
tasks and no `task_key`, `output` maps each task key to its result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambdas import _events
from lambdas._databricks import DatabricksClient
from lambdas._errors import InvalidInput

# Life cycle states after which the run will not change (databricks-sdk RunLifeCycleState).
TERMINAL = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})


def lambda_handler(
    event: Any, context: Any = None, *, client: DatabricksClient | None = None
) -> dict[str, Any]:
    event = _events.mapping(event)
    run_id = _events.integer(event, "run_id")
    task_key = event.get("task_key")
    client = client or DatabricksClient.from_environment()

    run = client.get_run(run_id)
    life_cycle, result, message = _state(run)
    is_complete = life_cycle in TERMINAL
    is_successful = is_complete and result == "SUCCESS"
    return {
        "run_id": run_id,
        "life_cycle_state": life_cycle,
        "result_state": result,
        "state_message": message,
        "is_complete": is_complete,
        "is_successful": is_successful,
        "output": _output(client, run, task_key) if is_successful else None,
    }


def _state(run: Mapping[str, Any]) -> tuple[str, str | None, str]:
    """From `state`, or from the newer `status` when a workspace sends only that."""
    state = run.get("state") or {}
    if state.get("life_cycle_state"):
        return state["life_cycle_state"], state.get("result_state"), state.get("state_message", "")
    status = run.get("status") or {}
    details = status.get("termination_details") or {}
    result = "SUCCESS" if details.get("code") == "SUCCESS" else (details.get("code") or None)
    return status.get("state", "PENDING"), result, details.get("message", "")


def _output(client: DatabricksClient, run: Mapping[str, Any], task_key: Any) -> Any:
    latest: dict[str, Mapping[str, Any]] = {}
    for task in run.get("tasks") or []:
        key = task.get("task_key", "")
        if key not in latest or task.get("attempt_number", 0) >= latest[key].get("attempt_number", 0):
            latest[key] = task  # a retried task appears once per attempt: the last one counts
    if not latest:
        return _result(client.get_run_output(int(run["run_id"])))
    if task_key is not None:
        if task_key not in latest:
            raise InvalidInput(f"run {run.get('run_id')} has no task {task_key!r}; tasks: {sorted(latest)}")
        return _result(client.get_run_output(int(latest[task_key]["run_id"])))
    if len(latest) == 1:
        (task,) = latest.values()
        return _result(client.get_run_output(int(task["run_id"])))
    return {key: _result(client.get_run_output(int(task["run_id"]))) for key, task in latest.items()}


def _result(output: Mapping[str, Any]) -> Any:
    result = (output.get("notebook_output") or {}).get("result")
    if result is None:
        return None
    try:
        return json.loads(result)
    except ValueError:
        return result  # a notebook may exit with plain text
