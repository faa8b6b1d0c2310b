"""The promise server's HTTP API (the store port): the routes resonate-sdk 0.6.7's `RemoteStore` calls.

    GET    /promises                  search (id with * wildcards, state, tags[k]=v, limit, cursor), newest first
    GET    /promises/{id}             read
    POST   /promises                  create            headers: idempotency-key, strict
    POST   /promises/task             create and claim its invoke task
    PATCH  /promises/{id}             resolve / reject / cancel (body `state`)
    POST   /promises/callback/{id}    resume a root promise's function when this one completes
    POST   /promises/subscribe/{id}   notify a process when this one completes
    POST   /tasks/claim | /tasks/complete | /tasks/drop | /tasks/heartbeat
    GET    /schedules                 search (id with * wildcards, tags[k]=v, limit, cursor), newest first
    POST   /schedules                 create            header: idempotency-key
    GET/DELETE /schedules/{id}

Status codes as the server's OpenAPI document gives them (201 created, 200 deduplicated, 400, 403, 404,
409); error bodies are `sim.resonate.errors.StoreError.body()`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sim.resonate.errors import StoreError
from sim.resonate.recv import normalize
from sim.resonate.store import PromiseStore


def _strict(request: Request) -> bool:
    return request.headers.get("strict", "false").lower() == "true"


def _ikey(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


async def _body(request: Request, *required: str) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise StoreError(40000, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise StoreError(40000, "The request body must be a JSON object")
    for name in required:
        if body.get(name) is None:
            raise StoreError(40000, f"The field {name} is required.")
    return body


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreError(40000, f"The field {name} must be an integer.")
    return value


def _search(query: Mapping[str, str], *fields: str) -> dict[str, Any]:
    """A search request: from its query (`id` required, `tags[k]=v`, `limit` 1 to 100, default 100), or from
    the `cursor` a previous page answered, which carries the whole next request (the Go server's
    `api.SearchPromises` / `SearchSchedules` and `t_api.NewCursor`)."""
    if query.get("cursor"):
        try:
            search = json.loads(base64.urlsafe_b64decode(query["cursor"].encode()))
        except ValueError:
            search = None
        if not isinstance(search, dict) or not {"id", "tags", "limit", "before", *fields} <= search.keys():
            raise StoreError(40000, "The field cursor is invalid.")
        return search
    if not query.get("id"):
        raise StoreError(40000, "The field id is required.")
    try:
        limit = int(query.get("limit") or 100)
    except ValueError:
        raise StoreError(40000, "The field limit must be between 1 and 100.") from None
    if not 1 <= limit <= 100:
        raise StoreError(40000, "The field limit must be between 1 and 100.")
    tags = {k[5:-1]: v for k, v in query.items() if k.startswith("tags[") and k.endswith("]")}
    return {"id": query["id"], "tags": tags, "limit": limit, "before": None, **{f: query.get(f) for f in fields}}


def _next(search: dict[str, Any], before: int | None) -> str | None:
    """The cursor of the next page (None: this was the last)."""
    if before is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({**search, "before": before}).encode()).decode()


def build_store_app(store: PromiseStore) -> FastAPI:
    app = FastAPI(title="Resonate promise server (stepbricks)", version="0.6.7-compatible")

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.get("/promises")
    def search(request: Request) -> dict[str, Any]:
        req = _search(request.query_params, "state")
        req["state"] = (req.get("state") or "").lower() or None
        if req["state"] not in (None, "pending", "resolved", "rejected"):
            raise StoreError(40000, "The field state must be one of pending, resolved, or rejected.")
        promises, before = store.search(req["id"], req["state"], req["tags"], req["limit"], req["before"])
        return {"promises": promises, "cursor": _next(req, before)}

    @app.get("/promises/{promise_id:path}")
    def read(promise_id: str) -> dict[str, Any]:
        return store.get(promise_id)

    @app.post("/promises")
    async def create(request: Request) -> JSONResponse:
        body = await _body(request, "id", "timeout")
        status, promise, _ = store.create(body["id"], _int(body, "timeout"), ikey=_ikey(request), strict=_strict(request),
                                          param=body.get("param"), tags=body.get("tags"))  # fmt: skip
        return JSONResponse(promise, status_code=status)

    @app.post("/promises/task")
    async def create_with_task(request: Request) -> JSONResponse:
        body = await _body(request, "promise", "task")
        p, t = body["promise"], body["task"]
        if p.get("id") is None or t.get("processId") is None:
            raise StoreError(40000, "The fields promise.id and task.processId are required.")
        status, promise, task = store.create(p["id"], _int(p, "timeout"), ikey=_ikey(request), strict=_strict(request),
                                             param=p.get("param"), tags=p.get("tags"), pid=t["processId"],
                                             ttl=_int(t, "ttl"))  # fmt: skip
        return JSONResponse({"promise": promise, **({"task": task} if task else {})}, status_code=status)

    @app.patch("/promises/{promise_id:path}")
    async def complete(promise_id: str, request: Request) -> JSONResponse:
        body = await _body(request, "state")
        status, promise = store.complete(promise_id, body["state"], ikey=_ikey(request), strict=_strict(request),
                                         value=body.get("value"))  # fmt: skip
        return JSONResponse(promise, status_code=status)

    def _registered(status: int, promise: dict[str, Any], callback: dict[str, Any] | None) -> JSONResponse:
        return JSONResponse({"promise": promise, **({"callback": callback} if callback else {})}, status_code=status)

    @app.post("/promises/callback/{promise_id:path}")
    async def callback(promise_id: str, request: Request) -> JSONResponse:
        body = await _body(request, "rootPromiseId", "timeout", "recv")
        return _registered(*store.callback(promise_id, body["rootPromiseId"], normalize(body["recv"]), _int(body, "timeout")))

    @app.post("/promises/subscribe/{promise_id:path}")
    async def subscribe(promise_id: str, request: Request) -> JSONResponse:
        body = await _body(request, "id", "timeout", "recv")
        return _registered(*store.subscribe(body["id"], promise_id, normalize(body["recv"]), _int(body, "timeout")))

    @app.post("/tasks/claim")
    async def claim(request: Request) -> JSONResponse:
        body = await _body(request, "id", "counter", "processId", "ttl")
        kind, root, leaf = store.claim(body["id"], _int(body, "counter"), body["processId"], _int(body, "ttl"))
        base = str(request.base_url).rstrip("/")  # the Go server's href: its own URL and the promise's path
        promises: dict[str, Any] = {"root": {"id": root["id"], "href": f"{base}/promises/{root['id']}", "data": root}}
        if leaf is not None:
            promises["leaf"] = {"id": leaf["id"], "href": f"{base}/promises/{leaf['id']}", "data": leaf}
        return JSONResponse({"type": kind, "promises": promises}, status_code=201)

    @app.post("/tasks/complete")
    async def complete_task(request: Request) -> JSONResponse:
        body = await _body(request, "id", "counter")
        status, task = store.complete_task(body["id"], _int(body, "counter"))
        return JSONResponse(task, status_code=status)

    @app.post("/tasks/drop")
    async def drop_task(request: Request) -> Response:
        body = await _body(request, "id", "counter")
        return Response(status_code=store.drop_task(body["id"], _int(body, "counter")))

    @app.post("/tasks/heartbeat")
    async def heartbeat(request: Request) -> dict[str, int]:
        body = await _body(request, "processId")
        return {"tasksAffected": store.heartbeat(body["processId"])}

    @app.post("/schedules")
    async def create_schedule(request: Request) -> JSONResponse:
        status, schedule = store.create_schedule(await _body(request), _ikey(request))
        return JSONResponse(schedule, status_code=status)

    @app.get("/schedules")
    def search_schedules(request: Request) -> dict[str, Any]:
        req = _search(request.query_params)
        schedules, before = store.search_schedules(req["id"], req["tags"], req["limit"], req["before"])
        return {"schedules": schedules, "cursor": _next(req, before)}

    @app.get("/schedules/{schedule_id:path}")
    def get_schedule(schedule_id: str) -> dict[str, Any]:
        return store.get_schedule(schedule_id)

    @app.delete("/schedules/{schedule_id:path}", status_code=204)
    def delete_schedule(schedule_id: str) -> Response:
        store.delete_schedule(schedule_id)
        return Response(status_code=204)

    return app
