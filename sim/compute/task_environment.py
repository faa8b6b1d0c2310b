"""`os.environ`, `sys.path` and `sys.argv` of a worker shared by attempts running at once.

A task's invocation adds environment variables and sys.path entries for its run. Several attempts run
concurrently in one worker (as notebooks share a Databricks cluster), so an attempt that ends must not
take away what another still running attempt was given: each setting is reference-counted and restored
only when the last attempt using it leaves. Found by the 100-file load bench: one attempt's cleanup
popped the modules and paths another attempt was importing from, and two concurrent
`importlib.invalidate_caches()` calls raced on `sys.path_importer_cache` (`KeyError: '.../python311.zip'`,
CPython deletes the same None-finder entry twice).
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim.compute.contract import TaskInvocation

# The cluster's own modules must survive even when a task's sys_path is the project root.
_PROTECTED = ("sim", "dbruntime", "databricks", "pyspark", "py4j")
# Installed packages are the cluster's libraries, never the task's code — even when the environment lives
# under the project root (.venv): dropping a C-extension module makes its next import fail
# ("cannot load module more than once per process", seen with numpy.fft).
_INSTALLED = tuple(
    str(Path(p).resolve()) + os.sep for p in {sys.prefix, sys.base_prefix, *sysconfig.get_paths().values()} if p
)

_lock = threading.RLock()
_active: dict[int, TaskInvocation] = {}  # attempt token -> invocation, in start order
_saved_env: dict[str, str | None] = {}  # the worker's own value of every key an active attempt set
_path_users: dict[str, int] = {}  # an attempt's sys.path entry -> how many active attempts name it
_inserted: set[str] = set()  # the entries among those that were not on sys.path before (ours to remove)
_modules_before: dict[str, set[str]] = {}  # entry -> sys.modules when its first active attempt started
_saved_argv: list[str] | None = None
_tokens = iter(range(1, 1 << 62))


@contextmanager
def task_environment(invocation: TaskInvocation, argv: list[str] | None) -> Iterator[None]:
    token = _enter(invocation, argv)
    try:
        yield
    finally:
        _leave(token)


def _enter(invocation: TaskInvocation, argv: list[str] | None) -> int:
    global _saved_argv
    with _lock:
        token = next(_tokens)
        _active[token] = invocation
        for key in invocation.env:
            _saved_env.setdefault(key, os.environ.get(key))
        os.environ.update(invocation.env)
        added = []
        for entry in dict.fromkeys(invocation.sys_path):
            if entry not in _path_users:
                _path_users[entry] = 0
                _modules_before[entry] = set(sys.modules)
                if entry not in sys.path:
                    added.append(entry)
                    _inserted.add(entry)
            _path_users[entry] += 1
        sys.path[:0] = added
        if argv is not None:
            if _saved_argv is None:
                _saved_argv = sys.argv
            sys.argv = argv
        importlib.invalidate_caches()  # under the lock: concurrent calls race in CPython
        return token


def _leave(token: int) -> None:
    global _saved_argv
    with _lock:
        invocation = _active.pop(token)
        for key in invocation.env:
            still = [other.env[key] for other in _active.values() if key in other.env]
            if still:
                os.environ[key] = still[-1]
                continue
            saved = _saved_env.pop(key, None)
            if saved is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = saved
        released = []
        for entry in dict.fromkeys(invocation.sys_path):
            _path_users[entry] -= 1
            if _path_users[entry] == 0:
                del _path_users[entry]
                released.append(entry)
                if entry in _inserted:
                    _inserted.discard(entry)
                    if entry in sys.path:
                        sys.path.remove(entry)
        for entry in released:
            _forget_new_modules_under(entry, _modules_before.pop(entry, set()))
        if _saved_argv is not None and not _active:
            sys.argv, _saved_argv = _saved_argv, None


def _forget_new_modules_under(path: str, before: set[str]) -> None:
    """Modules tasks imported from their own sys_path are imported afresh by the next task, not reused
    stale — once no running attempt can still be importing from it."""
    root = str(Path(path).resolve()) + os.sep
    for name in set(sys.modules) - before:
        if name.split(".")[0] in _PROTECTED:
            continue
        file = getattr(sys.modules.get(name), "__file__", None)
        if not file:
            continue
        resolved = str(Path(file).resolve())
        if resolved.startswith(root) and not resolved.startswith(_INSTALLED):
            sys.modules.pop(name, None)
