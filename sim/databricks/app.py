"""The FastAPI application: auth, fault injection and error shapes around the per-area routers.

Every route, the fault control API and the OpenAPI document included, needs `Authorization: Bearer
<token>`; only `/.well-known/databricks-config` (which databricks-sdk fetches unauthenticated when it
builds a Config) is open. The same routers serve `/api/2.0`, `/api/2.1` and `/api/2.2`. The OpenAPI
document describes request bodies and query parameters (`openapi_shapes.py`) although the handlers read
raw JSON, so bad input keeps the workspace's 400 shape.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sim.databricks import errors
from sim.databricks.backend import WORKSPACE_ID, Backend
from sim.databricks.clusters import routes as clusters_routes
from sim.databricks.faults import routes as faults_routes
from sim.databricks.http import describe_validation_errors
from sim.databricks.jobs import routes as jobs_routes
from sim.databricks.notifications import routes as notifications_routes
from sim.databricks.openapi_shapes import install as describe_requests
from sim.databricks.runs import routes as runs_routes
from sim.databricks.secrets import routes as secrets_routes
from sim.databricks.workspace import routes as workspace_routes

API_VERSIONS = ("2.0", "2.1", "2.2")
OPEN_PATHS = frozenset({"/.well-known/databricks-config"})


def build_app(backend: Backend) -> FastAPI:
    app = FastAPI(title="stepbricks fake Databricks workspace", docs_url=None, redoc_url=None)
    app.state.backend = backend

    # Before the routers: a client's first request (databricks-sdk's config discovery) matches it at once. FastAPI
    # builds an included router's route state when a request is first matched against it, so routing this one
    # past the 18 inclusions built all 118 routes' state (40-70 ms) before the workspace first answered.
    @app.get("/.well-known/databricks-config", include_in_schema=False)
    def databricks_config() -> dict:
        return {"workspace_id": WORKSPACE_ID, "oidc_endpoint": f"{backend.host}/oidc"}

    api_routers = [m.router for m in (jobs_routes, runs_routes, secrets_routes, workspace_routes, clusters_routes,
                                      notifications_routes)]
    for version in API_VERSIONS:
        for router in api_routers:
            app.include_router(router, prefix=f"/api/{version}")
    app.include_router(faults_routes.router)
    # The document shows request bodies and query parameters; the handlers still read raw JSON.
    describe_requests(app, [*api_routers, faults_routes.router])

    @app.middleware("http")
    async def auth_and_faults(request: Request, call_next):  # type: ignore[no-untyped-def]
        if request.url.path not in OPEN_PATHS:
            denied = _check_token(request.headers.get("authorization"), backend.token)
            if denied is not None:
                return _error(denied)
            if not request.url.path.startswith(faults_routes.PREFIX):
                fault = backend.faults.take_http(request.method, request.url.path)
                if fault is not None:
                    if fault.after_handler:
                        await call_next(request)
                    return JSONResponse(fault.response_body(), fault.status_code, headers=fault.headers())
        return await call_next(request)

    @app.exception_handler(errors.DatabricksError)
    async def databricks_error(_: Request, exc: errors.DatabricksError) -> Response:
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        return _error(errors.InvalidParameterValue(describe_validation_errors(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):
            return _error(errors.EndpointNotFound(f"No API found for '{request.method} {request.url.path}'"))
        return _error(errors.DatabricksError(str(exc.detail)))

    return app


def _check_token(header: str | None, token: str) -> errors.DatabricksError | None:
    if not header or not header.startswith("Bearer ") or not header[len("Bearer ") :].strip():
        return errors.Unauthenticated(errors.MISSING_CREDENTIALS)
    if not hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode()):
        return errors.PermissionDenied(errors.INVALID_TOKEN)
    return None


def _error(exc: errors.DatabricksError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
