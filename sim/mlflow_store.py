"""MLflow's SQLite store, migrated once per machine and copied per simulator.

A new SQLite store costs 4-12 s of schema migrations on first use (measured: tests/ml bench), paid by
the first training job. A copy of an already-migrated file costs ~0.03 s, so the simulator keeps one
migrated template per MLflow version in the user's cache and copies it into each new state directory.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from sim import context as sim_context

_MIGRATE = (
    "import sys; from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore; "
    "SqlAlchemyStore('sqlite:///' + sys.argv[1], sys.argv[2])"
)


MAX_OVERFLOW_ENV = "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"


def client_env(tracking_uri: str) -> dict[str, str]:
    """What a process using a SQLite tracking store needs beside `MLFLOW_TRACKING_URI`.

    A cluster runs its tasks as threads of one worker process, on one SQLAlchemy engine per store. MLflow's
    store holds a connection while it asks for another (nested sessions), so with SQLAlchemy's default
    QueuePool (5 connections + 10 overflow) more than 15 runs logging at once wait on each other until the
    pool's 30 s timeout and fail with "QueuePool limit of size 5 overflow 10 reached" (20 threads: 12
    failed). A workspace's tracking server has no such limit. An unbounded overflow (-1) opens what a burst
    needs and keeps 5 for reuse: 100 threads at once, none failed. NullPool did the same but opened a
    connection per session, ~20 ms more CPU per run logged one at a time.
    """
    return {MAX_OVERFLOW_ENV: "-1"} if tracking_uri.startswith("sqlite:") else {}


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stepbricks"


def template_path() -> Path:
    return cache_dir() / f"mlflow-{importlib.metadata.version('mlflow')}.db"


def ensure_template() -> Path:
    """The migrated template for the installed MLflow, created (in a subprocess) when missing."""
    template = template_path()
    if template.exists():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=template.parent) as tmp:
        db = Path(tmp) / "mlflow.db"
        subprocess.run([sys.executable, "-c", _MIGRATE, str(db), tmp], check=True, capture_output=True, timeout=300)
        os.replace(db, template)
    return template


def prepare(db_path: Path) -> bool:
    """Put a migrated store at `db_path` unless one is there already; never overwrites (True if copied)."""
    if db_path.exists():
        return False
    template = ensure_template()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=db_path.parent, suffix=".db")
    os.close(fd)
    try:
        shutil.copyfile(template, tmp)
        os.link(tmp, db_path)  # atomic and no-clobber: a job that created the store first keeps it
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def prepare_in_background(db_path: Path) -> threading.Thread:
    """Prepare the store while the rest of the simulator starts (the first job that needs it comes later)."""

    def run() -> None:
        try:
            prepare(db_path)
        except (OSError, subprocess.SubprocessError):
            pass  # MLflow then migrates the store itself on first use: slower, never wrong

    thread = sim_context.Thread(target=run, name="stepbricks-mlflow-store", daemon=True)
    thread.start()
    return thread
