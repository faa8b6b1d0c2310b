"""The session's shared fake workspace (tests/conftest.py: its default cluster's warm Spark is the costly
part, so tests/lambdas uses the same one); faults are reset before every test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sim import context as sim_context
from sim.databricks import Workspace


@pytest.fixture(scope="session")
def workspace(shared_workspace: Workspace) -> Workspace:
    """`mounted_dir` is the local directory mounted at /Repos/stepbricks."""
    return shared_workspace


@pytest.fixture(autouse=True)
def _reset_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults reset, and the test thread bound to the workspace's context: its `clock.now()` deadlines are
    then on the workspace's clock. Unbound, it read the newest running simulator's (a session simulator's
    virtual clock skipped a 60 s deadline at once while the test polled the workspace)."""
    if "workspace" not in request.fixturenames:
        yield
        return
    workspace = request.getfixturevalue("workspace")
    workspace.faults.reset()
    with sim_context.bind(workspace.context):
        yield


@pytest.fixture
def client(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from databricks.sdk import WorkspaceClient

    empty = tmp_path / "databrickscfg"
    empty.write_text("")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(empty))
    for name in [n for n in os.environ if n.startswith("DATABRICKS_") and n != "DATABRICKS_CONFIG_FILE"]:
        monkeypatch.delenv(name)
    return WorkspaceClient(host=workspace.host, token=workspace.token)


@pytest.fixture
def upload_notebook(client) -> Callable[[str, str], str]:
    """Import `source` as a Python notebook at `path` (parents created); returns the path."""
    from databricks.sdk.service.workspace import ImportFormat, Language

    def upload(path: str, source: str) -> str:
        client.workspace.mkdirs(path.rsplit("/", 1)[0])
        client.workspace.upload(path, ("# Databricks notebook source\n" + source).encode(),
                                format=ImportFormat.SOURCE, language=Language.PYTHON, overwrite=True)
        return path

    return upload
