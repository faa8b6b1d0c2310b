"""Attempts running at once on one cluster share the worker's os.environ, sys.path and sys.modules: what
one attempt was given stays until the last attempt using it ends (found by the 100-file load bench,
where a finished ETL attempt took away the paths and modules of a training attempt still importing)."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

from sim.compute.contract import TaskInvocation
from sim.compute.task_environment import task_environment


def _invocation(root: Path, **env: str) -> TaskInvocation:
    return TaskInvocation(run_id=1, task_key="t", attempt_number=0, kind="notebook", sys_path=[str(root)], env=env)


def test_an_attempt_that_ends_leaves_a_running_attempt_its_environment_and_path(tmp_path, monkeypatch):
    monkeypatch.delenv("STEPBRICKS_TEST_SHARED", raising=False)
    first, second = _invocation(tmp_path, STEPBRICKS_TEST_SHARED="a"), _invocation(tmp_path, STEPBRICKS_TEST_SHARED="a")

    with task_environment(first, None):
        with task_environment(second, None):
            pass
        assert os.environ["STEPBRICKS_TEST_SHARED"] == "a"
        assert str(tmp_path) in sys.path

    assert "STEPBRICKS_TEST_SHARED" not in os.environ
    assert str(tmp_path) not in sys.path


def test_overlapping_attempts_that_do_not_nest_restore_the_worker_once_both_ended(tmp_path, monkeypatch):
    monkeypatch.setenv("STEPBRICKS_TEST_OWN", "worker")
    first = task_environment(_invocation(tmp_path, STEPBRICKS_TEST_OWN="one"), None)
    second = task_environment(_invocation(tmp_path, STEPBRICKS_TEST_OWN="two"), None)

    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert os.environ["STEPBRICKS_TEST_OWN"] == "two"  # the running attempt's value, not the worker's
    second.__exit__(None, None, None)

    assert os.environ["STEPBRICKS_TEST_OWN"] == "worker"


def test_modules_a_task_imported_from_its_path_are_forgotten_only_after_the_last_attempt(tmp_path):
    (tmp_path / "stepbricks_task_module_x.py").write_text("VALUE = 1\n")
    first, second = _invocation(tmp_path), _invocation(tmp_path)

    with task_environment(first, None):
        with task_environment(second, None):
            import stepbricks_task_module_x  # noqa: F401
        assert "stepbricks_task_module_x" in sys.modules  # the first attempt may still use it

    assert "stepbricks_task_module_x" not in sys.modules  # the next task imports the file afresh


def test_many_attempts_entering_and_leaving_at_once_never_break_the_import_system(tmp_path):
    missing = str(tmp_path / "no-such.zip")  # a None finder, as python311.zip gets on most machines
    sys.path.append(missing)
    failures: list[BaseException] = []

    def attempt(index: int) -> None:
        try:
            for _ in range(100):
                with task_environment(_invocation(tmp_path / f"task{index % 3}"), None):
                    # a lookup that walks sys.path, putting the missing entry's None finder back in the cache
                    assert importlib.util.find_spec("stepbricks_no_such_module") is None
        except BaseException as failure:
            failures.append(failure)

    try:
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(t.is_alive() for t in threads), "an attempt's task environment never closed in 60 s"
    finally:
        sys.path.remove(missing)

    assert failures == []
    assert not any(str(tmp_path) in entry for entry in sys.path)


def test_import_caches_are_invalidated_by_one_attempt_at_a_time(tmp_path, monkeypatch):
    """CPython's invalidate_caches() deletes None-finder entries of sys.path_importer_cache; two threads
    doing it at once delete the same key twice (KeyError: '.../python311.zip', seen under load)."""
    in_flight, most = [0], [0]
    gate = threading.Lock()

    def invalidate_caches_slowly() -> None:
        with gate:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        threading.Event().wait(0.002)  # widen the window a race would need
        with gate:
            in_flight[0] -= 1

    monkeypatch.setattr(importlib, "invalidate_caches", invalidate_caches_slowly)

    def attempt(index: int) -> None:
        for _ in range(10):
            with task_environment(_invocation(tmp_path / f"task{index}"), None):
                pass

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "an attempt's task environment never closed in 60 s"

    assert most[0] == 1
