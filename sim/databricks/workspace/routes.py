"""Workspace API 2.0 routes. `import` takes JSON with base64 `content` or, as databricks-sdk's
`w.workspace.upload` sends it, multipart form data with a `content` file (sdk/mixins/workspace.py)."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sim.databricks.backend import Backend, backend
from sim.databricks.errors import InvalidParameterValue
from sim.databricks.http import ApiModel, json_body, parse, query_bool
from sim.databricks.workspace.models import decode_content

router = APIRouter()
_FILE_TYPES = {"PYTHON": "py", "SQL": "sql", "SCALA": "scala", "R": "r"}


class ImportRequest(ApiModel):
    path: str
    content: str | None = None
    format: str | None = None
    language: str | None = None
    overwrite: bool = False


class PathRequest(ApiModel):
    path: str


class DeleteRequest(ApiModel):
    path: str
    recursive: bool = False


@router.post("/workspace/import")
async def import_(request: Request, b: Backend = Depends(backend)) -> dict:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("content")
        content = await upload.read() if hasattr(upload, "read") else str(upload or "").encode()
        fields: dict[str, Any] = {k: v for k, v in form.items() if k != "content"}
        fields["overwrite"] = query_bool(str(fields.get("overwrite", "false")), "overwrite")
        req = parse(ImportRequest, fields)
    else:
        req = parse(ImportRequest, await json_body(request))
        content = decode_content(req.content)
    b.workspace.import_(req.path, content, format=req.format or "SOURCE", language=req.language,
                        overwrite=req.overwrite)
    return {}


@router.get("/workspace/export")
def export(request: Request, b: Backend = Depends(backend)) -> Any:
    q = request.query_params
    path = q.get("path") or ""
    fmt = (q.get("format") or "SOURCE").upper()
    if fmt not in ("SOURCE", "AUTO", "RAW"):
        raise InvalidParameterValue(f"Export format {fmt} is not supported by this workspace.")
    obj, content = b.workspace.export(path)
    if query_bool(q.get("direct_download"), "direct_download"):
        return Response(content, media_type="application/octet-stream")
    return {"content": base64.b64encode(content).decode(),
            "file_type": _FILE_TYPES.get(obj.get("language", ""), "")}


@router.get("/workspace/get-status")
def get_status(request: Request, b: Backend = Depends(backend)) -> dict:
    return b.workspace.get_status(request.query_params.get("path") or "")


@router.get("/workspace/list")
def list_objects(request: Request, b: Backend = Depends(backend)) -> dict:
    objects = b.workspace.list(request.query_params.get("path") or "")
    return {"objects": objects} if objects else {}


@router.post("/workspace/mkdirs")
def mkdirs(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    b.workspace.mkdirs(parse(PathRequest, body).path)
    return {}


@router.post("/workspace/delete")
def delete(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    req = parse(DeleteRequest, body)
    b.workspace.delete(req.path, recursive=req.recursive)
    return {}
