"""Start a Databricks job run for one step of one execution — at most once.

Seed 000's trigger, fixed: the token comes from Secrets Manager, the job is started with run-now on an
existing job (not a notebook payload sent to run-now), and `idempotency_token` is derived from the
Step Functions execution and the step, so a retried Task (Lambda timeout, throttling, a lost answer)
returns the run it already started instead of starting a second one.

Input: {job_id, job_parameters: {...}, execution_id: $$.Execution.Id, step: "etl", task_token?}
Output: {run_id, job_id, number_in_job, run_page_url}
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from lambdas import _events
from lambdas._databricks import DatabricksClient
from lambdas._errors import InvalidInput

log = logging.getLogger()
log.setLevel(logging.INFO)


def idempotency_token(execution_id: str, step: str) -> str:
    """sha256 of execution and step: 64 hex characters, the most Databricks accepts."""
    return hashlib.sha256(f"{execution_id}\n{step}".encode()).hexdigest()


def job_parameters(event: Mapping[str, Any]) -> dict[str, str]:
    """Databricks job parameters are strings: numbers and booleans are written as JSON writes them."""
    raw = event.get("job_parameters", {})
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"field 'job_parameters' must be an object, got {type(raw).__name__}")
    params = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in raw.items() if v is not None}
    if event.get("task_token") is not None:
        params["task_token"] = _events.text(event, "task_token")
    return params


def lambda_handler(
    event: Any, context: Any = None, *, client: DatabricksClient | None = None
) -> dict[str, Any]:
    event = _events.mapping(event)
    job_id = _events.integer(event, "job_id")
    execution_id = _events.text(event, "execution_id")
    step = _events.text(event, "step")
    params = job_parameters(event)
    client = client or DatabricksClient.from_environment()

    token = idempotency_token(execution_id, step)
    started = client.run_now(job_id, job_parameters=params, idempotency_token=token)
    run_id = int(started["run_id"])
    run = client.get_run(run_id)
    # Parameter names only: a task token lets anyone complete the task, so values stay out of logs.
    log.info("step %s: job %s run %s (parameters %s)", step, job_id, run_id, sorted(params))
    return {
        "run_id": run_id,
        "job_id": job_id,
        "number_in_job": started.get("number_in_job", run.get("number_in_job")),
        "run_page_url": run.get("run_page_url", ""),
    }
