"""Real clusters for the compute tests: one ClusterManager (one warm worker) for the whole session.

A Spark start-up costs 15-25 s on these machines, so every test shares the default cluster; the few
tests that must kill or reconfigure a worker say so in their names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from compute_support import SecretsApi, finished, invocation

from sim.compute import ClusterManager, TaskResult
from sim.compute.cluster import LocalCluster


@pytest.fixture(scope="session")
def secrets_api() -> Iterator[SecretsApi]:
    api = SecretsApi()
    yield api
    api.close()


@pytest.fixture(scope="session")
def manager(tmp_path_factory: pytest.TempPathFactory, secrets_api: SecretsApi) -> Iterator[ClusterManager]:
    env = {
        "DATABRICKS_HOST": secrets_api.host,
        "DATABRICKS_TOKEN": secrets_api.token,
        "DATABRICKS_CONFIG_FILE": os.devnull,
    }
    with ClusterManager(tmp_path_factory.mktemp("compute"), env, cancel_grace_seconds=3) as pool:
        yield pool


@pytest.fixture
def cluster(manager: ClusterManager) -> LocalCluster:
    return manager.get(manager.default_cluster_id())


@pytest.fixture
def run(cluster: LocalCluster) -> Callable[..., TaskResult]:
    """Run one attempt on the default cluster and wait for its result."""

    def run_(**fields: object) -> TaskResult:
        return finished(cluster.run(invocation(**fields)))

    return run_


@pytest.fixture
def notebook(tmp_path: Path) -> Callable[..., Path]:
    """Write a notebook in Databricks source format from cells; returns its path."""

    def write(*cells: str, name: str = "notebook.py") -> Path:
        path = tmp_path / name
        path.write_text("# Databricks notebook source\n" + "\n# COMMAND ----------\n".join(cells))
        return path

    return write
