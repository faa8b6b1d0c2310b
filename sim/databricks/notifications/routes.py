"""Notification destinations routes: parse and serialise only."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from sim.databricks.backend import Backend, backend
from sim.databricks.http import json_body

router = APIRouter()


@router.post("/notification-destinations")
def create(body: dict = Depends(json_body), b: Backend = Depends(backend)) -> dict:
    return b.destinations.create(body.get("display_name"), body.get("config"))


@router.get("/notification-destinations")
def list_destinations(b: Backend = Depends(backend)) -> dict:
    return {"results": b.destinations.list()}


@router.get("/notification-destinations/{destination_id}")
def get(destination_id: str, b: Backend = Depends(backend)) -> dict:
    return b.destinations.get(destination_id)


@router.delete("/notification-destinations/{destination_id}")
def delete(destination_id: str, b: Backend = Depends(backend)) -> dict:
    b.destinations.delete(destination_id)
    return {}
