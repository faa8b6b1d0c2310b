"""Secrets API routes: parse and serialise only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sim.databricks.backend import Backend, backend
from sim.databricks.errors import InvalidParameterValue
from sim.databricks.http import ApiModel, json_body, parse

router = APIRouter()


class ScopeRequest(ApiModel):
    scope: str


class PutRequest(ApiModel):
    scope: str
    key: str
    string_value: str | None = None
    bytes_value: str | None = None


class KeyRequest(ApiModel):
    scope: str
    key: str


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidParameterValue(f"Missing required field: {name}")
    return value


@router.post("/secrets/scopes/create")
def create_scope(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    b.secrets.create_scope(parse(ScopeRequest, body).scope)
    return {}


@router.get("/secrets/scopes/list")
def list_scopes(b: Backend = Depends(backend)) -> dict:
    scopes = b.secrets.list_scopes()
    return {"scopes": scopes} if scopes else {}


@router.post("/secrets/scopes/delete")
def delete_scope(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    b.secrets.delete_scope(parse(ScopeRequest, body).scope)
    return {}


@router.post("/secrets/put")
def put(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    req = parse(PutRequest, body)
    b.secrets.put(req.scope, req.key, string_value=req.string_value, bytes_value=req.bytes_value)
    return {}


@router.get("/secrets/get")
def get(request: Request, b: Backend = Depends(backend)) -> dict:
    return b.secrets.get(_query(request, "scope"), _query(request, "key"))


@router.get("/secrets/list")
def list_secrets(request: Request, b: Backend = Depends(backend)) -> dict:
    secrets = b.secrets.list(_query(request, "scope"))
    return {"secrets": secrets} if secrets else {}


@router.post("/secrets/delete")
def delete(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    req = parse(KeyRequest, body)
    b.secrets.delete(req.scope, req.key)
    return {}
