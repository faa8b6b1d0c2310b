"""Clusters API routes: the workspace's view of `ClusterPool`; the clusters themselves live in `compute/`.

`clusters/events` pages as databricks-sdk's `ClustersAPI.events` reads it: newest first unless
`order=ASC`, `limit` (default 50) events from `offset`, `next_page` = the request for the next page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from sim.compute.backends import BackendError
from sim.compute.contract import Cluster
from sim.databricks.backend import Backend, backend
from sim.databricks.errors import InvalidParameterValue
from sim.databricks.http import ApiModel, json_body, parse

router = APIRouter()


class ClusterIdRequest(ApiModel):
    cluster_id: str


def cluster_api(cluster: Cluster, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = spec or getattr(cluster, "spec", None) or {}
    body = {
        "cluster_id": cluster.cluster_id,
        "cluster_name": spec.get("cluster_name") or getattr(cluster, "cluster_name", cluster.cluster_id),
        "spark_version": spec.get("spark_version", "stepbricks-local-spark"),
        "node_type_id": spec.get("node_type_id", "local"),
        "state": cluster.state,
        "cluster_source": "API",
        "creator_user_name": "stepbricks@localhost",
    }
    if spec.get("autoscale"):
        body["autoscale"] = spec["autoscale"]
    else:
        body["num_workers"] = spec.get("num_workers", 0)
    for key in ("spark_conf", "spark_env_vars", "custom_tags"):
        if spec.get(key):
            body[key] = spec[key]
    message = getattr(cluster, "state_message", "")
    if message:
        body["state_message"] = message
    return body


def _lookup(b: Backend, cluster_id: str) -> Cluster:
    for cluster in b.compute().list():
        if cluster.cluster_id == cluster_id:
            return cluster
    raise InvalidParameterValue(f"Cluster {cluster_id} does not exist")


@router.get("/clusters/list")
def list_clusters(b: Backend = Depends(backend)) -> dict:
    clusters = [cluster_api(c) for c in b.compute().list()]
    return {"clusters": clusters} if clusters else {}


@router.get("/clusters/get")
def get(request: Request, b: Backend = Depends(backend)) -> dict:
    return cluster_api(_lookup(b, request.query_params.get("cluster_id") or ""))


@router.post("/clusters/create")
def create(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    try:
        return {"cluster_id": b.compute().create(body).cluster_id}
    except BackendError as error:  # a spark_conf naming no backend this workspace knows
        raise InvalidParameterValue(str(error)) from None


class EventsRequest(ApiModel):
    cluster_id: str
    start_time: int | None = None
    end_time: int | None = None
    order: str = "DESC"
    event_types: list[str] | None = None
    offset: int = 0
    limit: int = 50


@router.post("/clusters/events")
def events(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    request = parse(EventsRequest, body)
    if request.order not in ("ASC", "DESC"):
        raise InvalidParameterValue(f"order must be ASC or DESC, got {request.order}")
    if not 1 <= request.limit <= 500 or request.offset < 0:
        raise InvalidParameterValue("limit must be between 1 and 500 and offset not negative")
    cluster = _lookup(b, request.cluster_id)
    found = [
        dict(e) for e in list(getattr(cluster, "events", []))
        if (request.start_time is None or e["timestamp"] >= request.start_time)
        and (request.end_time is None or e["timestamp"] <= request.end_time)
        and (not request.event_types or e["type"] in request.event_types)
    ]
    if request.order == "DESC":
        found.reverse()
    page = found[request.offset : request.offset + request.limit]
    answer: dict[str, Any] = {"events": page, "total_count": len(found)}
    if request.offset + request.limit < len(found):
        answer["next_page"] = {**body, "offset": request.offset + request.limit, "limit": request.limit}
    return answer


@router.post("/clusters/start")
def start(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    cluster_id = parse(ClusterIdRequest, body).cluster_id
    _lookup(b, cluster_id)
    b.compute().get(cluster_id)
    return {}


@router.post("/clusters/delete")
def delete(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    _lookup(b, parse(ClusterIdRequest, body).cluster_id).terminate()
    return {}
