"""Jobs API routes: parse and serialise only (`jobs/models.py` holds the logic)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from sim.databricks.backend import Backend, backend
from sim.databricks.http import ApiModel, json_body, parse, query_bool, query_int, query_token
from sim.databricks.jobs.array_pages import JOB_ARRAYS, first_page_only, page_arrays, paged
from sim.databricks.paging import page_fields

router = APIRouter()


class JobIdRequest(ApiModel):
    job_id: int


class ResetRequest(ApiModel):
    job_id: int
    new_settings: dict[str, Any]


class UpdateRequest(ApiModel):
    job_id: int
    new_settings: dict[str, Any] | None = None
    fields_to_remove: list[str] | None = None


class CreateRequest(ApiModel):
    name: str | None = None
    tasks: list[dict[str, Any]] | None = None
    parameters: list[dict[str, Any]] | None = Field(default=None)
    max_concurrent_runs: int | None = None
    timeout_seconds: int | None = None


@router.post("/jobs/create")
def create(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    parse(CreateRequest, body)
    return {"job_id": b.jobs.create(body)}


@router.get("/jobs/get")
def get(request: Request, b: Backend = Depends(backend)) -> dict:
    q = request.query_params
    job_id = query_int(q.get("job_id"), "job_id", 0)
    body = b.jobs.get(job_id).to_api()
    if paged(request):
        token = page_arrays(body["settings"], JOB_ARRAYS, query_token(q.get("page_token")))
        if token:
            body["next_page_token"] = token
    return body


@router.get("/jobs/list")
def list_jobs(request: Request, b: Backend = Depends(backend)) -> dict:
    q = request.query_params
    page = b.jobs.list(
        limit=query_int(q.get("limit"), "limit", 20) or 0,
        offset=query_int(q.get("offset"), "offset", 0) or 0,
        page_token=query_token(q.get("page_token")),
        name=q.get("name") or None,
    )
    expand = query_bool(q.get("expand_tasks"), "expand_tasks")
    items = []
    for job in page.items:
        item = job.to_api(expand_tasks=expand)
        if expand and paged(request) and first_page_only(item["settings"], JOB_ARRAYS):
            item["has_more"] = True
        items.append(item)
    return page_fields(page, "jobs", items)


@router.post("/jobs/reset")
def reset(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    req = parse(ResetRequest, body)
    b.jobs.reset(req.job_id, req.new_settings)
    return {}


@router.post("/jobs/update")
def update(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    req = parse(UpdateRequest, body)
    b.jobs.update(req.job_id, req.new_settings, req.fields_to_remove)
    return {}


@router.post("/jobs/delete")
def delete(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    b.jobs.delete(parse(JobIdRequest, body).job_id)
    return {}
