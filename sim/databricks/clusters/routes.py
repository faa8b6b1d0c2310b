"""Clusters API routes: the workspace's view of `ClusterPool`; the clusters themselves live in `compute/`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from sim.compute.contract import Cluster
from sim.databricks.backend import Backend, backend
from sim.databricks.errors import InvalidParameterValue
from sim.databricks.http import ApiModel, json_body, parse

router = APIRouter()


class ClusterIdRequest(ApiModel):
    cluster_id: str


def cluster_api(cluster: Cluster, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = spec or {}
    return {
        "cluster_id": cluster.cluster_id,
        "cluster_name": spec.get("cluster_name") or getattr(cluster, "cluster_name", cluster.cluster_id),
        "spark_version": spec.get("spark_version", "stepbricks-local-spark"),
        "node_type_id": spec.get("node_type_id", "local"),
        "num_workers": spec.get("num_workers", 0),
        "state": cluster.state,
        "cluster_source": "API",
        "creator_user_name": "stepbricks@localhost",
    }


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
    return {"cluster_id": b.compute().create(body).cluster_id}


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
