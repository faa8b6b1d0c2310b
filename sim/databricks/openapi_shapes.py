"""Request shapes in the workspace's OpenAPI document, without changing how requests are read.

Handlers read raw JSON (`http.json_body`) and validate it with an `ApiModel` (`http.parse`), so bad input
gets the workspace's 400 `INVALID_PARAMETER_VALUE` shape and never FastAPI's 422. FastAPI therefore sees
no body parameter and documents none. This fills the document in afterwards: a POST operation's
`requestBody` is the schema of the `ApiModel` its handler refers to (found in the names the handler's
code uses, so a new route is described without registering it); GET operations list the query parameters
in `QUERY` (the Databricks API's names and types). Every operation documents the workspace's error body.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from sim.databricks.http import ApiModel

# GET query parameters per path below /api/<version>: name -> (JSON type, required).
QUERY: dict[str, dict[str, tuple[str, bool]]] = {
    "/jobs/get": {"job_id": ("integer", True), "page_token": ("string", False),
                  "include_trigger_state": ("boolean", False)},
    "/jobs/list": {"limit": ("integer", False), "offset": ("integer", False), "page_token": ("string", False),
                   "name": ("string", False), "expand_tasks": ("boolean", False)},
    "/jobs/runs/get": {"run_id": ("integer", True), "include_history": ("boolean", False),
                       "include_resolved_values": ("boolean", False), "page_token": ("string", False)},
    "/jobs/runs/get-output": {"run_id": ("integer", True)},
    "/jobs/runs/list": {"job_id": ("integer", False), "active_only": ("boolean", False),
                        "completed_only": ("boolean", False), "limit": ("integer", False),
                        "offset": ("integer", False), "page_token": ("string", False),
                        "run_type": ("string", False), "expand_tasks": ("boolean", False),
                        "start_time_from": ("integer", False), "start_time_to": ("integer", False)},
    "/secrets/get": {"scope": ("string", True), "key": ("string", True)},
    "/secrets/list": {"scope": ("string", True)},
    "/workspace/export": {"path": ("string", True), "format": ("string", False),
                          "direct_download": ("boolean", False)},
    "/workspace/get-status": {"path": ("string", True)},
    "/workspace/list": {"path": ("string", True)},
    "/clusters/get": {"cluster_id": ("string", True)},
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error_code", "message"],
    "properties": {"error_code": {"type": ["string", "integer"]}, "message": {"type": "string"}},
}


def install(app: FastAPI, routers: list[APIRouter]) -> None:
    """Make `app.openapi()` (and so `/openapi.json`) serve the described document. `routers` are the
    routers the app includes (their own routes, since FastAPI wraps included ones)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            describe(schema, routers)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(schema: dict[str, Any], routers: list[APIRouter]) -> None:
    """Add request shapes and the error response to every operation of `schema` in place."""
    endpoints = {(route.path, method): route.endpoint
                 for router in routers for route in router.routes if isinstance(route, APIRoute)
                 for method in route.methods}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for path, item in schema["paths"].items():
        suffix = _api_suffix(path)
        for method_lower, operation in item.items():
            method = method_lower.upper()
            endpoint = endpoints.get((suffix, method)) or endpoints.get((path, method))
            operation.setdefault("responses", {}).pop("422", None)
            operation["responses"]["400"] = {
                "description": "A workspace error (bad parameter, missing resource, invalid state)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            if method == "GET" and suffix in QUERY:
                operation["parameters"] = [
                    {"name": name, "in": "query", "required": required, "schema": {"type": kind}}
                    for name, (kind, required) in QUERY[suffix].items()
                ]
            model = request_model(endpoint) if endpoint is not None and method != "GET" else None
            if model is None and method != "GET":  # a handler that reads its body freely: any JSON object
                operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": True}}}}
            if model is not None:
                name = f"{model.__module__.rsplit('.', 2)[-2]}.{model.__name__}"
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(body.pop("$defs", {}))
                components[name] = body
                operation["requestBody"] = {
                    "required": bool(body.get("required")),
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                }


def request_model(endpoint: Any) -> type[ApiModel] | None:
    """The ApiModel a handler parses its body with, read off the names its code refers to."""
    function = inspect.unwrap(endpoint)
    for name in function.__code__.co_names:
        candidate = function.__globals__.get(name)
        if isinstance(candidate, type) and issubclass(candidate, ApiModel) and candidate is not ApiModel:
            return candidate
    return None


def _api_suffix(path: str) -> str:
    """`/api/2.1/jobs/get` -> `/jobs/get`; other paths unchanged."""
    parts = path.split("/", 3)
    return "/" + parts[3] if len(parts) == 4 and parts[1] == "api" else path
