"""MLflow's SQLite store is migrated once per machine and copied per simulator, never over a live store."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from sim import mlflow_store

RUNS_LOGGING_AT_ONCE = r"""
import json, sys, threading
import mlflow

mlflow.set_experiment("at-once")
failures = []

def log():
    try:
        with mlflow.start_run():
            mlflow.log_params({f"p{k}": k for k in range(10)})
            for step in range(3):
                mlflow.log_metrics({f"m{k}": k * step for k in range(8)}, step=step)
    except Exception as error:
        failures.append(repr(error)[:300])

threads = [threading.Thread(target=log) for _ in range(int(sys.argv[1]))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"failures": failures, "runs": len(mlflow.search_runs(output_format="list"))}))
"""


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("select name from sqlite_master where type='table'")}


def test_a_new_store_is_a_copy_of_the_migrated_template(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    db = tmp_path / "state" / "mlflow.db"

    assert mlflow_store.prepare(db) is True

    tables = _tables(db)
    assert {"experiments", "runs", "registered_models", "model_versions", "alembic_version"} <= tables
    assert mlflow_store.template_path().exists()


def test_an_existing_store_is_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"a store a job already created")

    assert mlflow_store.prepare(db) is False
    assert db.read_bytes() == b"a store a job already created"


def test_a_store_takes_more_runs_logging_at_once_than_sqlalchemys_pool_holds(tmp_path):
    """A cluster's concurrent tasks are threads of one worker process on one engine. With SQLAlchemy's default
    pool, more than 15 runs logging at once waited on each other for 30 s and failed ("QueuePool limit of size 5
    overflow 10 reached": 5 train/evaluate tasks of a 30-file load); a workspace's tracking server takes them."""
    db = tmp_path / "mlflow.db"
    mlflow_store.prepare(db)
    uri = f"sqlite:///{db}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, **mlflow_store.client_env(uri)}
    done = subprocess.run([sys.executable, "-c", RUNS_LOGGING_AT_ONCE, "24"], env=env, capture_output=True,
                          text=True, timeout=180, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == {"failures": [], "runs": 24}


def test_only_a_sqlite_store_changes_the_pool():
    assert mlflow_store.client_env("http://127.0.0.1:5000") == {}
    assert mlflow_store.client_env("databricks") == {}
