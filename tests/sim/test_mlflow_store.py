"""MLflow's SQLite store is migrated once per machine and copied per simulator, never over a live store."""

from __future__ import annotations

import sqlite3

from sim import mlflow_store


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
