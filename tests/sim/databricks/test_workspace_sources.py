"""The file a notebook task runs is never seen half-written, however many runs of the notebook start at
once (with 30 files uploaded together, runs read it while another run rewrote it, found it empty, and
"succeeded" in 35 ms with no output)."""

from __future__ import annotations

import threading

from sim.databricks.store import Store
from sim.databricks.workspace.models import WorkspaceBackend

NOTEBOOK = ("# Databricks notebook source\n" + "x = 1\n" * 20_000).encode()


def _backend(tmp_path) -> WorkspaceBackend:
    backend = WorkspaceBackend(Store(tmp_path / "ws.db"), state_dir=tmp_path, mounts={})
    backend.import_("/Shared/train", NOTEBOOK, format="SOURCE", language="PYTHON", overwrite=True)
    return backend


def test_concurrent_runs_of_one_notebook_always_read_it_whole(tmp_path):
    backend = _backend(tmp_path)
    seen: list[int] = []

    def run_task() -> None:
        for _ in range(40):
            source = backend.resolve_source("/Shared/train", notebook=True)
            seen.append(len(source.path.read_bytes()))

    threads = [threading.Thread(target=run_task) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a reader never finished its 40 reads in 60 s"

    assert set(seen) == {len(NOTEBOOK)}


def test_a_reimported_notebook_is_what_the_next_run_reads(tmp_path):
    backend = _backend(tmp_path)
    backend.resolve_source("/Shared/train", notebook=True)

    backend.import_("/Shared/train", b"# Databricks notebook source\ny = 2\n", format="SOURCE", language="PYTHON",
                    overwrite=True)

    assert backend.resolve_source("/Shared/train", notebook=True).path.read_bytes().endswith(b"y = 2\n")
