"""Jobs API 2.2: the array properties of one job or run come 100 elements per page.

jobs/get pages `settings.tasks, job_clusters, parameters, environments`; runs/get pages `tasks,
job_clusters, job_parameters, repair_history` (databricks-sdk 0.156 `JobsAPI.get` / `get_run`
docstrings). `next_page_token` is present only while some array has more; every page carries the
whole object with each array cut to its slice, and an array with nothing left is empty on later pages
(databricks-sdk's `JobsExt.get` / `get_run` extend every array from each page, so they must be lists).
API 2.0 and 2.1 return every element at once. jobs/list and runs/list with `expand_tasks` on 2.2 show
the first page only and say `has_more: true` on an item that has more (the SDK then calls get).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from sim.databricks.paging import decode_token, encode_token

PAGE_SIZE = 100
JOB_ARRAYS = ("tasks", "job_clusters", "parameters", "environments")
RUN_ARRAYS = ("tasks", "job_clusters", "job_parameters", "repair_history", "iterations")  # iterations: a For each task run


def api_version(request: Request) -> str:
    """"2.0", "2.1" or "2.2" from `/api/<version>/...`."""
    parts = request.url.path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "api" else ""


def paged(request: Request) -> bool:
    return api_version(request) == "2.2"


def page_arrays(container: dict[str, Any], fields: tuple[str, ...], page_token: str | None) -> str | None:
    """Cut `container`'s arrays to one page in place; returns the next page's token or None.

    On the first page an absent array stays absent (the API omits empty arrays); on later pages every
    array that existed is a (possibly empty) list."""
    start = decode_token(page_token) if page_token else 0
    end = start + PAGE_SIZE
    more = False
    for field in fields:
        items = container.get(field)
        if not isinstance(items, list):
            continue
        container[field] = items[start:end]
        more = more or len(items) > end
    return encode_token(end) if more else None


def first_page_only(container: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """The list endpoints' view: the first page of each array; True when something was left out."""
    return page_arrays(container, fields, None) is not None
