"""The promise server's HTTP API (the store port): the routes resonate-sdk 0.6.7's `RemoteStore` calls.

    GET    /promises                  search (id wildcards, state, tags[k]=v, limit, cursor)
    GET    /promises/{id}             read
    POST   /promises                  create            headers: idempotency-key, strict
    POST   /promises/task             create and claim its invoke task
    PATCH  /promises/{id}             resolve / reject / cancel (body `state`)
    POST   /promises/callback/{id}    resume a root promise's function when this one completes
    POST   /promises/subscribe/{id}   notify a process when this one completes
    POST   /tasks/claim | /tasks/complete | /tasks/heartbeat
    GET/POST/DELETE /schedules[/{id}]

Status codes as the server's OpenAPI document gives them (201 created, 200 deduplicated, 400, 403, 404,
409); error bodies are `sim.resonate.errors.StoreError.body()`.
"""

from __future__ import annotations

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


def build_store_app(store: PromiseStore) -> FastAPI:
    app = FastAPI(title="Resonate promise server (stepbricks)", version="0.6.7-compatible")

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.get("/promises")
    def search(request: Request) -> dict[str, Any]:
        q = request.query_params
        state = q.get("state")
        if state is not None and state not in ("pending", "resolved", "rejected"):
            raise StoreError(40000, "The field state must be one of pending, resolved, or rejected.")
        tags = {k[5:-1]: v for k, v in q.items() if k.startswith("tags[") and k.endswith("]")}
        limit = int(q.get("limit", 100))
        promises, cursor = store.search(q.get("id"), state, tags, limit, int(q.get("cursor") or 0))
        return {"promises": promises, "cursor": str(cursor) if cursor is not None else None}

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
        promises: dict[str, Any] = {"root": {"id": root["id"], "href": f"/promises/{root['id']}", "data": root}}
        if leaf is not None:
            promises["leaf"] = {"id": leaf["id"], "href": f"/promises/{leaf['id']}", "data": leaf}
        return JSONResponse({"type": kind, "promises": promises}, status_code=201)

    @app.post("/tasks/complete")
    async def complete_task(request: Request) -> JSONResponse:
        body = await _body(request, "id", "counter")
        status, task = store.complete_task(body["id"], _int(body, "counter"))
        return JSONResponse(task, status_code=status)

    @app.post("/tasks/heartbeat")
    async def heartbeat(request: Request) -> dict[str, int]:
        body = await _body(request, "processId")
        return {"tasksAffected": store.heartbeat(body["processId"])}

    @app.post("/schedules")
    async def create_schedule(request: Request) -> JSONResponse:
        status, schedule = store.create_schedule(await _body(request), _ikey(request))
        return JSONResponse(schedule, status_code=status)

    @app.get("/schedules/{schedule_id:path}")
    def get_schedule(schedule_id: str) -> dict[str, Any]:
        return store.get_schedule(schedule_id)

    @app.delete("/schedules/{schedule_id:path}", status_code=204)
    def delete_schedule(schedule_id: str) -> Response:
        store.delete_schedule(schedule_id)
        return Response(status_code=204)

    return app
