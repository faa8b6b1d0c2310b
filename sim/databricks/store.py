"""SQLite persistence for the workspace: every job, run, secret and workspace object survives a restart.

Models keep their state in memory for speed and write each change through here; on start they load
it back. Rows are JSON documents keyed by (kind, key) — the models own the document shapes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
                                      PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Store:
    """A thread-safe document store over one SQLite file (`<state_dir>/workspace.db`)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def put(self, kind: str, key: object, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO documents (kind, key, body) VALUES (?, ?, ?)",
                (kind, str(key), json.dumps(body)),
            )

    def delete(self, kind: str, key: object) -> None:
        with self._lock:
            self._db.execute("DELETE FROM documents WHERE kind = ? AND key = ?", (kind, str(key)))

    def all(self, kind: str) -> Iterator[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM documents WHERE kind = ?", (kind,)).fetchall()
        for (body,) in rows:
            yield json.loads(body)

    def put_blob(self, key: str, content: bytes) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO blobs (key, content) VALUES (?, ?)", (key, content))

    def get_blob(self, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT content FROM blobs WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def delete_blob(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM blobs WHERE key = ?", (key,))

    def next_id(self, name: str, start: int) -> int:
        """The next value of a named sequence (ids are sequential and deterministic, never clock-based)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            value = start if row is None else row[0] + 1
            self._db.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (name, value))
            return value

    def close(self) -> None:
        with self._lock:
            self._db.close()
