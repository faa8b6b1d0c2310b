"""Concurrent alias moves on the simulated workspace's registry succeed, as on Databricks' managed one:
OSS MLflow's SQL store loses the race with `UNIQUE constraint failed: registered_model_aliases` (seen
in the 100-file load bench when two evaluations passed their gate at once)."""

from __future__ import annotations

import threading

from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

from sim import mlflow_store
from sim.databricks.compute import mlflow_registry


def _registry_with_two_versions(tmp_path) -> str:
    db = tmp_path / "mlflow.db"
    mlflow_store.prepare(db)
    uri = f"sqlite:///{db}"
    store = SqlAlchemyStore(uri)
    store.create_registered_model("churn")
    for _ in range(2):
        store.create_model_version("churn", source="s3://models/churn", run_id=None)
    return uri


def _move_alias_concurrently(uri: str, threads: int = 6, moves: int = 15) -> list[BaseException]:
    failures: list[BaseException] = []

    def evaluate(index: int) -> None:
        store = SqlAlchemyStore(uri)  # each cluster task builds its own client and store
        try:
            for move in range(moves):
                store.delete_registered_model_alias("churn", "champion") if move % 5 == 4 else None
                store.set_registered_model_alias("churn", "champion", str(1 + (index + move) % 2))
        except Exception as failure:
            failures.append(failure)

    pool = [threading.Thread(target=evaluate, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return failures


def test_concurrent_alias_moves_on_a_cluster_all_succeed_and_the_alias_names_a_version(tmp_path):
    assert mlflow_registry.install()
    uri = _registry_with_two_versions(tmp_path)

    assert _move_alias_concurrently(uri) == []
    assert SqlAlchemyStore(uri).get_model_version_by_alias("churn", "champion").version in (1, 2)


def test_installing_twice_wraps_once():
    mlflow_registry.install()
    once = SqlAlchemyStore.set_registered_model_alias
    mlflow_registry.install()

    assert SqlAlchemyStore.set_registered_model_alias is once
