"""Runs API routes (run-now, runs/*): parse and serialise only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from sim.databricks.backend import Backend, backend
from sim.databricks.errors import InvalidParameterValue
from sim.databricks.http import ApiModel, json_body, parse, query_bool, query_int, query_token
from sim.databricks.jobs.array_pages import RUN_ARRAYS, first_page_only, page_arrays, paged
from sim.databricks.paging import page_fields

router = APIRouter()
OUTPUT_LIMIT = 5 * 1024 * 1024  # notebook result: first 5 MB; logs: last 5 MB


class RunParameters(ApiModel):
    """The parameter slots run-now and runs/repair share."""

    job_parameters: dict[str, Any] | None = None
    notebook_params: dict[str, Any] | None = None
    python_params: list[str] | None = None
    python_named_params: dict[str, Any] | None = None
    jar_params: list[str] | None = None
    spark_submit_params: list[str] | None = None


class RunNowRequest(RunParameters):
    # A body without job_id reaches the lookup as job 0: "Job 0 does not exist." as on a workspace.
    job_id: int = 0
    idempotency_token: str | None = None
    only: list[str] | None = None


class SubmitRequest(ApiModel):
    run_name: str | None = None
    tasks: list[dict[str, Any]] | None = None
    timeout_seconds: int | None = None
    idempotency_token: str | None = None


class RunIdRequest(ApiModel):
    run_id: int


class RepairRequest(RunParameters):
    # No run_id reaches the lookup as run 0: "Run 0 does not exist.", like run-now's job_id.
    run_id: int = 0
    rerun_tasks: list[str] | None = None
    rerun_all_failed_tasks: bool | None = None
    rerun_dependent_tasks: bool | None = None
    latest_repair_id: int | None = None
    sql_params: dict[str, Any] | None = None
    pipeline_params: dict[str, Any] | None = None
    dbt_commands: list[str] | None = None


class CancelAllRequest(ApiModel):
    job_id: int | None = None
    all_queued_runs: bool = False


@router.post("/jobs/run-now")
def run_now(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    parse(RunNowRequest, body)
    run = b.runs.run_now(body)
    return {"run_id": run.run_id, "number_in_job": run.run_id}


@router.post("/jobs/runs/submit")
def submit(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    parse(SubmitRequest, body)
    return {"run_id": b.runs.submit(body).run_id}


@router.post("/jobs/runs/repair")
def repair(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    req = parse(RepairRequest, body)
    return {"repair_id": b.runs.repair(req.model_dump(exclude_none=True))}


@router.get("/jobs/runs/get")
def get(request: Request, b: Backend = Depends(backend)) -> dict:
    q = request.query_params
    run_id = query_int(q.get("run_id"), "run_id", 0) or 0
    run = b.runs.get(run_id)
    body = b.runs.to_api(run, task_run=b.runs.task_run(run_id),
                         include_history=query_bool(q.get("include_history"), "include_history"),
                         include_resolved_values=query_bool(q.get("include_resolved_values"),
                                                            "include_resolved_values"))
    if paged(request):
        token = page_arrays(body, RUN_ARRAYS, query_token(q.get("page_token")))
        if token:
            body["next_page_token"] = token
    return body


@router.get("/jobs/runs/get-output")
def get_output(request: Request, b: Backend = Depends(backend)) -> dict:
    run_id = query_int(request.query_params.get("run_id"), "run_id", 0) or 0
    run = b.runs.get(run_id)
    task_run = b.runs.task_run(run_id)
    if task_run is None:
        if run.multi_task:
            raise InvalidParameterValue(
                "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the "
                "output of each individual task run instead."
            )
        task_run = run.latest_attempts().get(run.tasks_spec[0]["task_key"]) if run.tasks else None
    body: dict[str, Any] = {"metadata": b.runs.to_api(run, task_run=task_run) if task_run else b.runs.to_api(run)}
    if task_run is None:
        return body
    out = task_run.output
    if "notebook_task" in task_run.task and task_run.state.terminal:
        notebook: dict[str, Any] = {"truncated": False}
        if out.notebook_result is not None:
            notebook["result"] = out.notebook_result[:OUTPUT_LIMIT]
            notebook["truncated"] = len(out.notebook_result) > OUTPUT_LIMIT
        body["notebook_output"] = notebook
    elif task_run.state.terminal:
        body["logs"] = out.logs[-OUTPUT_LIMIT:]
        body["logs_truncated"] = len(out.logs) > OUTPUT_LIMIT
    if task_run.child_run_id is not None:  # a Run Job task: the job run it started
        body["run_job_output"] = {"run_id": task_run.child_run_id}
    if out.error:
        body["error"] = out.error
    if out.error_trace:
        body["error_trace"] = out.error_trace
    return body


@router.get("/jobs/runs/list")
def list_runs(request: Request, b: Backend = Depends(backend)) -> dict:
    q = request.query_params
    page = b.runs.list(
        job_id=query_int(q.get("job_id"), "job_id"),
        active_only=query_bool(q.get("active_only"), "active_only"),
        completed_only=query_bool(q.get("completed_only"), "completed_only"),
        limit=query_int(q.get("limit"), "limit", 20) or 0,
        offset=query_int(q.get("offset"), "offset", 0) or 0,
        page_token=query_token(q.get("page_token")),
        run_type=q.get("run_type") or None,
        start_time_from=query_int(q.get("start_time_from"), "start_time_from"),
        start_time_to=query_int(q.get("start_time_to"), "start_time_to"),
    )
    expand = query_bool(q.get("expand_tasks"), "expand_tasks")
    items = []
    for run in page.items:
        item = b.runs.to_api(run)
        if not expand:
            item.pop("tasks", None)
        elif paged(request) and first_page_only(item, RUN_ARRAYS):
            item["has_more"] = True
        items.append(item)
    return page_fields(page, "runs", items)


@router.post("/jobs/runs/cancel")
def cancel(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    b.runs.cancel(parse(RunIdRequest, body).run_id)
    return {}


@router.post("/jobs/runs/cancel-all")
def cancel_all(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    req = parse(CancelAllRequest, body)
    b.runs.cancel_all(req.job_id, req.all_queued_runs)
    return {}


@router.post("/jobs/runs/delete")
def delete(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    b.runs.delete(parse(RunIdRequest, body).run_id)
    return {}
