"""Concurrent alias moves on the simulated workspace's registry succeed, as on Databricks' managed one:
OSS MLflow's SQL store loses the race with `UNIQUE constraint failed: registered_model_aliases` (seen
in the 100-file load bench when two evaluations passed their gate at once)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

from sim import mlflow_store
from sim.compute import mlflow_registry

ROOT = Path(__file__).resolve().parents[3]

RACE_SECONDS = 240  # spawning six processes that import MLflow takes seconds on a busy machine


def _registry_with_two_versions(tmp_path) -> str:
    db = tmp_path / "mlflow.db"
    mlflow_store.prepare(db)
    uri = f"sqlite:///{db}"
    store = SqlAlchemyStore(uri)
    store.create_registered_model("churn")
    for _ in range(2):
        store.create_model_version("churn", source="s3://models/churn", run_id=None)
    return uri


def _evaluate(uri: str, index: int, moves: int, start: object, install: bool) -> list[str]:
    """One cluster worker process: what an evaluation task does to the alias, `moves` times over."""
    if install:
        assert mlflow_registry.install()
    store = SqlAlchemyStore(uri)  # each worker builds its own client and store
    start.wait(RACE_SECONDS)  # every process moves the alias at the same moment
    failures = []
    for move in range(moves):
        try:
            if move % 5 == 4:
                store.delete_registered_model_alias("churn", "champion")
            store.set_registered_model_alias("churn", "champion", str(1 + (index + move) % 2))
        except Exception as failure:
            failures.append(f"{type(failure).__name__}: {failure}")
    return failures


def _move_alias_in_processes(uri: str, *, install: bool = True, processes: int = 6,
                             moves: int = 15) -> list[str]:
    """Cluster workers are separate processes (sim/compute/worker.py), each with its own
    MLflow client, racing on one SQLite store: never forked from this process, whose store class
    `install` has wrapped. A fork server is a fresh interpreter that only imports MLflow's store (1.7 s
    of CPU per spawned child otherwise) and forks the racers: each installs the wrapper, or not, itself."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["mlflow.store.model_registry.sqlalchemy_store"])
    with context.Manager() as manager, context.Pool(processes) as pool:
        start = manager.Barrier(processes)
        pending = [pool.apply_async(_evaluate, (uri, i, moves, start, install)) for i in range(processes)]
        return [failure for result in pending for failure in result.get(RACE_SECONDS)]


def test_concurrent_alias_moves_from_separate_worker_processes_all_succeed_and_the_alias_names_a_version(
    tmp_path,
):
    uri = _registry_with_two_versions(tmp_path)

    assert _move_alias_in_processes(uri) == []
    assert SqlAlchemyStore(uri).get_model_version_by_alias("churn", "champion").version in (1, 2)


def test_without_the_wrapper_worker_processes_do_lose_the_race(tmp_path):
    """The race above is real: unwrapped, OSS MLflow fails some of the same moves (what the load bench hit)."""
    uri = _registry_with_two_versions(tmp_path)

    failures = _move_alias_in_processes(uri, install=False)

    assert failures, "no move lost the race: the test above no longer proves the wrapper is needed"
    assert all("registered_model_aliases" in f for f in failures), failures[:3]


def test_installing_twice_wraps_once():
    mlflow_registry.install()
    once = SqlAlchemyStore.set_registered_model_alias
    mlflow_registry.install()

    assert SqlAlchemyStore.set_registered_model_alias is once


def test_a_worker_that_never_imports_mlflow_does_not_pay_for_it_and_one_that_does_gets_the_wrapper():
    """A fresh interpreter, as a cluster worker starts: the hook costs nothing until a task imports the store."""
    code = (
        "import sys\n"
        "from sim.compute import mlflow_registry\n"
        "mlflow_registry.install_when_imported()\n"
        "assert 'mlflow' not in sys.modules, 'imported at install'\n"
        "from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore\n"
        "assert SqlAlchemyStore.set_registered_model_alias.__stepbricks_serialised__\n"
        "assert SqlAlchemyStore.delete_registered_model_alias.__stepbricks_serialised__\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
