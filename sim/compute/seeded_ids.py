"""Worker side of a deterministic simulator: MLflow's run ids come from the simulator's seed.

MLflow's tracking store (in this cluster worker process) names every run `uuid.uuid4().hex`, and those
ids reach the pipeline's outputs and so the execution history. With `STEPBRICKS_ID_SEED` set (a
`Simulator.start(deterministic=True)`), the store's `uuid` is a stand-in drawing from a generator per
(seed, task run id, attempt), so a replayed flight gets the same run ids; unset, nothing changes.
Per process by nature: it runs in the worker, which serves one simulator at a time.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import types
import uuid
from typing import Any

from sim.compute import context

SEED_VARIABLE = "STEPBRICKS_ID_SEED"
STAND_IN = "stepbricks.seeded_uuid"


class _SeededUuids:
    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._streams: dict[str, random.Random] = {}

    def uuid4(self) -> uuid.UUID:
        task = context.current()
        key = f"{self._seed}:worker" if task is None else (
            f"{self._seed}:{task.invocation.run_id}:{task.invocation.attempt_number}")
        with self._lock:
            stream = self._streams.setdefault(key, random.Random(key))
            return uuid.UUID(int=stream.getrandbits(128), version=4)


def install(environ: Any = os.environ) -> bool:
    """Seed MLflow's run ids if the simulator asked for it; True if it did. A fresh generator at every call:
    a pooled worker installs again for each simulator it serves (`sim.compute.lease`), and one without a
    seed gets MLflow's own uuid back."""
    seed = environ.get(SEED_VARIABLE)
    if not seed:
        store = sys.modules.get("mlflow.store.tracking.sqlalchemy_store")
        if store is not None and getattr(store.uuid, "__name__", "") == STAND_IN:
            store.uuid = uuid  # type: ignore[attr-defined]
        return False
    from mlflow.store.tracking import sqlalchemy_store

    stand_in = types.ModuleType(STAND_IN)
    stand_in.__dict__.update({k: v for k, v in vars(uuid).items() if not k.startswith("__")})
    stand_in.uuid4 = _SeededUuids(seed).uuid4  # type: ignore[attr-defined]
    sqlalchemy_store.uuid = stand_in  # type: ignore[attr-defined]
    return True
