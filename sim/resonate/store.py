"""The durable-promise store: promises, callbacks, tasks and schedules in SQLite, and their transitions.

The transitions follow the Resonate server as its Python SDK sees it (resonate-sdk 0.6.7: the HTTP
calls in `stores/remote.py`, and the SDK's in-process model of the server in `stores/local.py`):

- a promise is PENDING until resolved, rejected, canceled or timed out; completing it again is
  deduplicated (200) only with the idempotency key that completed it (and, in strict mode, the same
  state), otherwise refused with 403 and the state it is in;
- a promise created with the tag `resonate:invoke` gets an invoke task addressed to the tag's value;
- a callback (`resume`) or subscription (`notify`) waits on a pending promise; when the promise completes
  each becomes a task, which the dispatcher delivers to the poller its `recv` names;
- a task is INIT (to deliver), ENQUEUED (delivered, lease of 5 s to claim it), CLAIMED (leased for the
  claimer's ttl, kept alive by heartbeats) or COMPLETED; a lapsed lease puts it back to INIT with the
  counter incremented, so a claim or completion with the old counter is refused (403, the Go server's
  task codes 40305-40308).

Time is the simulator's clock, read through `now_ms`; `tick` applies every deadline that has passed
(promise timeouts, lapsed leases, schedules due), and every operation ticks first, so a promise read after
its timeout is already timed out even if the background loop has not run yet.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.resonate import cron
from sim.resonate.errors import StoreError, already_completed

COMPLETED_STATES = ("RESOLVED", "REJECTED", "REJECTED_CANCELED", "REJECTED_TIMEDOUT")
ENQUEUE_LEASE_MS = 5000  # the SDK's model of the server: an enqueued task not claimed in 5 s is resent
INVOKE_TAG = "resonate:invoke"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS promises (
  id TEXT PRIMARY KEY, state TEXT NOT NULL, timeout INTEGER NOT NULL,
  ikey_create TEXT, ikey_complete TEXT, param TEXT NOT NULL, value TEXT NOT NULL, tags TEXT NOT NULL,
  created_on INTEGER NOT NULL, completed_on INTEGER, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS promises_pending ON promises (state, timeout);
CREATE TABLE IF NOT EXISTS callbacks (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, promise_id TEXT NOT NULL, root_promise_id TEXT NOT NULL,
  recv TEXT NOT NULL, timeout INTEGER NOT NULL, created_on INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS callbacks_promise ON callbacks (promise_id);
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, counter INTEGER NOT NULL, state TEXT NOT NULL, type TEXT NOT NULL, recv TEXT NOT NULL,
  root_promise_id TEXT NOT NULL, leaf_promise_id TEXT NOT NULL, pid TEXT, ttl INTEGER, expiry INTEGER,
  created_on INTEGER NOT NULL, completed_on INTEGER);
CREATE INDEX IF NOT EXISTS tasks_state ON tasks (state);
CREATE TABLE IF NOT EXISTS schedules (
  id TEXT PRIMARY KEY, description TEXT, cron TEXT NOT NULL, tags TEXT NOT NULL, promise_id TEXT NOT NULL,
  promise_timeout INTEGER NOT NULL, promise_param TEXT NOT NULL, promise_tags TEXT NOT NULL, ikey TEXT,
  last_run INTEGER, next_run INTEGER NOT NULL, created_on INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Delivery:
    """A message the dispatcher should send to `recv`; `task_id`/`counter` say which task it stands for."""

    recv: str
    message: dict[str, Any]
    task_id: str
    counter: int


def _ikey_match(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and left == right


def _value(raw: dict[str, Any] | None) -> dict[str, Any]:
    raw = raw or {}
    return {"headers": raw.get("headers"), "data": raw.get("data")}


def _id_matches(pattern: str, value: str) -> bool:
    """The search `id`: `*` matches any run of characters, everything else itself (the Go server's LIKE)."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), value, re.DOTALL) is not None


def _page(rows: list[sqlite3.Row], key: str, as_json: Callable[[sqlite3.Row], dict[str, Any]], id_pattern: str,
          tags: dict[str, str], limit: int, keep: Callable[[dict[str, Any]], bool],
          ) -> tuple[list[dict[str, Any]], int | None]:  # fmt: skip
    """Up to `limit` matching rows (already in order) and the key the next page starts below, if any is left."""
    found: list[dict[str, Any]] = []
    last = 0
    for row in rows:
        item = as_json(row)
        if not _id_matches(id_pattern, item["id"]) or not keep(item):
            continue
        if any((item["tags"] or {}).get(k) != v for k, v in tags.items()):
            continue
        if len(found) == limit:
            return found, last  # another match is left: the next page starts below the last one shown
        found.append(item)
        last = row[key]
    return found, None


def _refuse(task: sqlite3.Row, counter: int, *, claiming: bool) -> None:
    """Raise the Go server's refusal of a claim or a completion (coroutines/claimTask.go, completeTask.go),
    if any: claimed already (claim), completed already, not claimed (complete), or another counter."""
    state = task["state"]
    if claiming and state == "CLAIMED":
        raise StoreError(40305)
    if state == "COMPLETED":
        raise StoreError(40306)
    if task["type"] == "notify" or (not claiming and state in ("INIT", "ENQUEUED")):
        raise StoreError(40308)  # a notify message is delivered, never claimed
    if task["counter"] != counter:
        raise StoreError(40307)


class PromiseStore:
    """All the server's state, one SQLite file, one lock (operations are short; the file is the truth)."""

    def __init__(self, path: Path, now_ms: Callable[[], int]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._now_ms = now_ms
        self.changed: Callable[[], None] = lambda: None  # the server's loop hook: something may be due

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self, *, notify: bool = True) -> Iterator[int]:
        """One transaction, after applying the deadlines that passed; yields the time it runs at.

        `notify` wakes the server's loop afterwards (a request may have made a task deliverable); the
        loop's own writes do not, or it would wake itself forever."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                now = self._now_ms()
                self._tick(now)
                yield now
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        if notify:
            self.changed()

    # --- promises --------------------------------------------------------------------------------------
    def _row(self, promise_id: str) -> sqlite3.Row | None:
        return self._db.execute("SELECT * FROM promises WHERE id = ?", (promise_id,)).fetchone()

    @staticmethod
    def promise_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"], "state": row["state"], "timeout": row["timeout"],
            "idempotencyKeyForCreate": row["ikey_create"], "idempotencyKeyForComplete": row["ikey_complete"],
            "param": json.loads(row["param"]), "value": json.loads(row["value"]), "tags": json.loads(row["tags"]),
            "createdOn": row["created_on"], "completedOn": row["completed_on"],
        }  # fmt: skip

    def get(self, promise_id: str) -> dict[str, Any]:
        with self._tx():
            row = self._row(promise_id)
            if row is None:
                raise StoreError(40400)
            return self.promise_json(row)

    def search(self, id_pattern: str, state: str | None, tags: dict[str, str], limit: int,
               before: int | None) -> tuple[list[dict[str, Any]], int | None]:  # fmt: skip
        """Promises matching `id_pattern` (`*` wildcards), a state family and tags, newest first (the Go
        server's `ORDER BY sort_id DESC`), created before `before`; and where the next page starts."""
        families = {"pending": ("PENDING",), "resolved": ("RESOLVED",),
                    "rejected": ("REJECTED", "REJECTED_CANCELED", "REJECTED_TIMEDOUT")}  # fmt: skip
        with self._tx():
            rows = self._db.execute("SELECT * FROM promises WHERE seq < ? ORDER BY seq DESC",
                                    (before if before is not None else 2**62,)).fetchall()  # fmt: skip
        return _page(rows, "seq", self.promise_json, id_pattern, tags, limit,
                     lambda p: state is None or p["state"] in families[state])  # fmt: skip

    def create(self, promise_id: str, timeout: int, *, ikey: str | None, strict: bool, param: dict[str, Any] | None,
               tags: dict[str, str] | None, pid: str | None = None, ttl: int = 0,
               ) -> tuple[int, dict[str, Any], dict[str, Any] | None]:  # fmt: skip
        """Create a promise (and, with `pid`, claim its invoke task for that process at once).

        Returns (HTTP status, promise, claimed task or None): 201 created, 200 deduplicated."""
        with self._tx() as now:
            row = self._row(promise_id)
            if row is not None:
                # The Go server (coroutines/createPromise.go): deduplicated only with the create key, and in
                # strict mode only while pending; anything else is a conflict.
                if not _ikey_match(row["ikey_create"], ikey) or (strict and row["state"] != "PENDING"):
                    raise StoreError(40900)
                return 200, self.promise_json(row), None
            tags = dict(tags or {})
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM promises").fetchone()[0]
            self._db.execute(
                "INSERT INTO promises VALUES (?, 'PENDING', ?, ?, NULL, ?, ?, ?, ?, NULL, ?)",
                (promise_id, timeout, ikey, json.dumps(_value(param)), json.dumps(_value(None)), json.dumps(tags), now, seq),
            )  # fmt: skip
            task = None
            if tags.get(INVOKE_TAG):
                task_id = f"__invoke:{promise_id}"
                self._insert_task(task_id, "invoke", tags[INVOKE_TAG], promise_id, promise_id, now)
                if pid is not None:
                    self._db.execute("UPDATE tasks SET state = 'CLAIMED', pid = ?, ttl = ?, expiry = ? WHERE id = ?",
                                     (pid, ttl, now + ttl, task_id))  # fmt: skip
                    task = self._task_json(self._task(task_id))
            # Created pending even when its timeout has passed, as the Go server does: the next tick (any
            # request, or the loop at once) times it out.
            return 201, self.promise_json(self._row(promise_id)), task

    def complete(self, promise_id: str, state: str, *, ikey: str | None, strict: bool,
                 value: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:  # fmt: skip
        """Resolve, reject or cancel: 201 completed now, 200 deduplicated, 403 already completed otherwise."""
        if state not in ("RESOLVED", "REJECTED", "REJECTED_CANCELED"):
            raise StoreError(40000, f"The field state must be one of RESOLVED, REJECTED, or REJECTED_CANCELED (got {state!r})")
        with self._tx() as now:
            row = self._row(promise_id)
            if row is None:
                raise StoreError(40400)
            current = row["state"]
            if current == "PENDING":
                self._db.execute("UPDATE promises SET state = ?, ikey_complete = ?, value = ?, completed_on = ? WHERE id = ?",
                                 (state, ikey, json.dumps(_value(value)), now, promise_id))  # fmt: skip
                self._completed(promise_id, now)
                return 201, self.promise_json(self._row(promise_id))
            if current == "REJECTED_TIMEDOUT":
                if strict:
                    raise already_completed(current)
                return 200, self.promise_json(row)
            if _ikey_match(row["ikey_complete"], ikey) and (not strict or current == state):
                return 200, self.promise_json(row)
            raise already_completed(current)

    def _timeout(self, promise_id: str, now: int) -> None:
        row = self._row(promise_id)
        state = "RESOLVED" if json.loads(row["tags"]).get("resonate:timeout") == "true" else "REJECTED_TIMEDOUT"
        self._db.execute("UPDATE promises SET state = ?, value = ?, completed_on = timeout WHERE id = ?",
                         (state, json.dumps(_value(None)), promise_id))  # fmt: skip
        self._completed(promise_id, now)

    def _completed(self, promise_id: str, now: int) -> None:
        """A promise left PENDING: its open tasks end, its callbacks and subscriptions become tasks."""
        self._db.execute("UPDATE tasks SET state = 'COMPLETED', pid = NULL, ttl = NULL, expiry = NULL, completed_on = ? "
                         "WHERE root_promise_id = ? AND state != 'COMPLETED'", (now, promise_id))  # fmt: skip
        callbacks = self._db.execute("SELECT * FROM callbacks WHERE promise_id = ?", (promise_id,)).fetchall()
        for cb in callbacks:
            self._insert_task(cb["id"], cb["type"], cb["recv"], cb["root_promise_id"], cb["promise_id"], now)
        self._db.execute("DELETE FROM callbacks WHERE promise_id = ?", (promise_id,))

    # --- callbacks and subscriptions -------------------------------------------------------------------
    def callback(self, promise_id: str, root_promise_id: str, recv: str, timeout: int,
                 ) -> tuple[int, dict[str, Any], dict[str, Any] | None]:  # fmt: skip
        """Resume the root promise's function (a `resume` task to `recv`) when this promise completes."""
        return self._register(f"__resume:{root_promise_id}:{promise_id}", "resume", promise_id, root_promise_id,
                              recv, timeout)  # fmt: skip

    def subscribe(self, subscription_id: str, promise_id: str, recv: str, timeout: int,
                  ) -> tuple[int, dict[str, Any], dict[str, Any] | None]:  # fmt: skip
        """Tell `recv` (a `notify` message with the promise) when this promise completes."""
        return self._register(f"__notify:{promise_id}:{subscription_id}", "notify", promise_id, promise_id, recv,
                              timeout)  # fmt: skip

    def _register(self, callback_id: str, kind: str, promise_id: str, root_promise_id: str, recv: str,
                  timeout: int) -> tuple[int, dict[str, Any], dict[str, Any] | None]:  # fmt: skip
        with self._tx() as now:
            row = self._row(promise_id)
            if row is None:
                raise StoreError(40400)
            exists = self._db.execute("SELECT 1 FROM callbacks WHERE id = ?", (callback_id,)).fetchone()
            if row["state"] != "PENDING" or exists:
                return 200, self.promise_json(row), None
            self._db.execute("INSERT INTO callbacks VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (callback_id, kind, promise_id, root_promise_id, recv, timeout, now))  # fmt: skip
            callback = {"id": callback_id, "promiseId": promise_id, "timeout": timeout, "createdOn": now}
            return 201, self.promise_json(row), callback

    def has_callback(self, promise_id: str) -> bool:
        """Whether something waits on the promise (a callback or subscription is registered)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM callbacks WHERE promise_id = ?", (promise_id,)).fetchone() is not None

    # --- tasks -----------------------------------------------------------------------------------------
    def _insert_task(self, task_id: str, kind: str, recv: str, root: str, leaf: str, now: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO tasks VALUES (?, 1, 'INIT', ?, ?, ?, ?, NULL, NULL, NULL, ?, NULL)",
                         (task_id, kind, recv, root, leaf, now))  # fmt: skip

    def _task_json(self, task: sqlite3.Row) -> dict[str, Any]:
        """The OpenAPI document's Task: its timeout is its root promise's (as the Go server sets it)."""
        root = self._row(task["root_promise_id"])
        return {"id": task["id"], "counter": task["counter"], "timeout": root["timeout"] if root else 0,
                "processId": task["pid"], "createdOn": task["created_on"], "completedOn": task["completed_on"]}  # fmt: skip

    def _task(self, task_id: str) -> sqlite3.Row:
        row = self._db.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            raise StoreError(40403)
        return row

    def claim(self, task_id: str, counter: int, pid: str, ttl: int) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """Lease an INIT or ENQUEUED task with the current counter to `pid`; its root (and leaf) promises."""
        with self._tx() as now:
            task = self._task(task_id)
            _refuse(task, counter, claiming=True)
            self._db.execute("UPDATE tasks SET state = 'CLAIMED', pid = ?, ttl = ?, expiry = ? WHERE id = ?",
                             (pid, ttl, now + ttl, task_id))  # fmt: skip
            root = self.promise_json(self._row(task["root_promise_id"]))
            leaf = self.promise_json(self._row(task["leaf_promise_id"])) if task["type"] == "resume" else None
            return task["type"], root, leaf

    def complete_task(self, task_id: str, counter: int) -> tuple[int, dict[str, Any]]:
        """End a claimed task (201); a completed one answers 200 whatever the counter (the Go server's
        coroutines/completeTask.go: its root promise may have completed it); refused when the task is not
        claimed (the lease lapsed) or the counter is another claim's."""
        with self._tx() as now:
            task = self._task(task_id)
            if task["state"] == "COMPLETED":
                return 200, self._task_json(task)
            _refuse(task, counter, claiming=False)
            self._db.execute("UPDATE tasks SET state = 'COMPLETED', pid = NULL, ttl = NULL, expiry = NULL, "
                             "completed_on = ? WHERE id = ?", (now, task_id))  # fmt: skip
            return 201, self._task_json(self._task(task_id))

    def drop_task(self, task_id: str, counter: int) -> int:
        """Give a claimed task back (201): INIT with the next counter, so it is delivered again and the old
        claim's counter is refused; a task not claimed is already dropped (200). The Go server's dropTask.go."""
        with self._tx():
            task = self._task(task_id)
            if task["state"] != "CLAIMED":
                return 200
            if task["counter"] != counter:
                raise StoreError(40307)
            self._db.execute("UPDATE tasks SET state = 'INIT', counter = counter + 1, pid = NULL, ttl = NULL, "
                             "expiry = NULL WHERE id = ?", (task_id,))  # fmt: skip
            return 201

    def heartbeat(self, pid: str) -> int:
        """Renew every lease `pid` holds; how many."""
        with self._tx() as now:
            cursor = self._db.execute("UPDATE tasks SET expiry = ? + ttl WHERE state = 'CLAIMED' AND pid = ?", (now, pid))
            return cursor.rowcount

    # --- schedules -------------------------------------------------------------------------------------
    @staticmethod
    def _schedule_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"], "description": row["description"], "cron": row["cron"], "tags": json.loads(row["tags"]),
            "promiseId": row["promise_id"], "promiseTimeout": row["promise_timeout"],
            "promiseParam": json.loads(row["promise_param"]), "promiseTags": json.loads(row["promise_tags"]),
            "idempotencyKey": row["ikey"], "lastRunTime": row["last_run"], "nextRunTime": row["next_run"],
            "createdOn": row["created_on"],
        }  # fmt: skip

    def create_schedule(self, body: dict[str, Any], ikey: str | None) -> tuple[int, dict[str, Any]]:
        missing = [k for k in ("id", "cron", "promiseId", "promiseTimeout") if body.get(k) in (None, "")]
        if missing or int(body.get("promiseTimeout", 0)) < 0:
            raise StoreError(40000, f"The field {(missing or ['promiseTimeout'])[0]} is invalid")
        try:
            cron.parse(body["cron"])
        except cron.CronError as exc:
            raise StoreError(40000, str(exc)) from None
        with self._tx() as now:
            row = self._db.execute("SELECT * FROM schedules WHERE id = ?", (body["id"],)).fetchone()
            if row is not None:
                if _ikey_match(row["ikey"], ikey):
                    return 200, self._schedule_json(row)
                raise StoreError(40901)
            self._db.execute(
                "INSERT INTO schedules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (body["id"], body.get("description", ""), body["cron"], json.dumps(body.get("tags") or {}),
                 body["promiseId"], int(body["promiseTimeout"]), json.dumps(_value(body.get("promiseParam"))),
                 json.dumps(body.get("promiseTags") or {}), ikey, cron.next_run(body["cron"], now), now),
            )  # fmt: skip
            return 201, self._schedule_json(self._db.execute("SELECT * FROM schedules WHERE id = ?", (body["id"],)).fetchone())

    def search_schedules(self, id_pattern: str, tags: dict[str, str], limit: int,
                         before: int | None) -> tuple[list[dict[str, Any]], int | None]:  # fmt: skip
        """Schedules matching `id_pattern` (`*` wildcards) and tags, newest first (`GET /schedules`)."""
        with self._tx():
            rows = self._db.execute("SELECT rowid, * FROM schedules WHERE rowid < ? ORDER BY rowid DESC",
                                    (before if before is not None else 2**62,)).fetchall()  # fmt: skip
        return _page(rows, "rowid", self._schedule_json, id_pattern, tags, limit, lambda _: True)

    def get_schedule(self, schedule_id: str) -> dict[str, Any]:
        with self._tx():
            row = self._db.execute("SELECT * FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
            if row is None:
                raise StoreError(40401)
            return self._schedule_json(row)

    def delete_schedule(self, schedule_id: str) -> None:
        with self._tx():
            if self._db.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,)).rowcount == 0:
                raise StoreError(40401)

    # --- time and delivery -----------------------------------------------------------------------------
    def _tick(self, now: int) -> None:
        for schedule in self._db.execute("SELECT * FROM schedules WHERE next_run <= ?", (now,)).fetchall():
            promise_id = schedule["promise_id"].replace("{{.timestamp}}", str(schedule["next_run"]))
            if self._row(promise_id) is None:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM promises").fetchone()[0]
                tags = json.loads(schedule["promise_tags"])
                # Created as of the run it stands for, its timeout counted from then (the Go server's
                # coroutines/schedulePromises.go); a run long past is timed out by the check below.
                due = schedule["next_run"]
                self._db.execute("INSERT INTO promises VALUES (?, 'PENDING', ?, NULL, NULL, ?, ?, ?, ?, NULL, ?)",
                                 (promise_id, due + schedule["promise_timeout"], schedule["promise_param"],
                                  json.dumps(_value(None)), json.dumps(tags), due, seq))  # fmt: skip
                if tags.get(INVOKE_TAG):
                    self._insert_task(f"__invoke:{promise_id}", "invoke", tags[INVOKE_TAG], promise_id, promise_id, now)
            self._db.execute("UPDATE schedules SET last_run = next_run, next_run = ? WHERE id = ?",
                             (cron.next_run(schedule["cron"], now), schedule["id"]))  # fmt: skip
        for (promise_id,) in self._db.execute(
            "SELECT id FROM promises WHERE state = 'PENDING' AND timeout <= ?", (now,)
        ).fetchall():
            self._timeout(promise_id, now)
        self._db.execute("UPDATE tasks SET state = 'INIT', counter = counter + 1, pid = NULL, ttl = NULL, expiry = NULL "
                         "WHERE state IN ('ENQUEUED', 'CLAIMED') AND expiry <= ?", (now,))  # fmt: skip

    def tick(self) -> None:
        """Apply the deadlines that passed (the background loop's call)."""
        with self._tx(notify=False):
            pass

    def next_deadline(self) -> int | None:
        """The earliest time something is due: a promise timeout, a lease, a schedule (ms), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(t) FROM (SELECT MIN(timeout) AS t FROM promises WHERE state = 'PENDING' "
                "UNION ALL SELECT MIN(expiry) FROM tasks WHERE state IN ('ENQUEUED', 'CLAIMED') "
                "UNION ALL SELECT MIN(next_run) FROM schedules)"
            ).fetchone()  # fmt: skip
            return row[0]

    def deliverable(self) -> list[Delivery]:
        """The messages for every task waiting to be delivered (INIT)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM tasks WHERE state = 'INIT' ORDER BY created_on, id").fetchall()
            out = []
            for task in rows:
                if task["type"] == "notify":
                    message = {"type": "notify", "promise": self.promise_json(self._row(task["root_promise_id"]))}
                else:
                    message = {"type": task["type"], "task": {"id": task["id"], "counter": task["counter"]}}
                out.append(Delivery(task["recv"], message, task["id"], task["counter"]))
            return out

    def delivered(self, delivery: Delivery) -> None:
        """The message reached a poller: notify tasks are done, others wait to be claimed (ENQUEUED)."""
        with self._tx(notify=False) as now:
            if delivery.message["type"] == "notify":
                self._db.execute("UPDATE tasks SET state = 'COMPLETED', completed_on = ? WHERE id = ? AND state = 'INIT'",
                                 (now, delivery.task_id))  # fmt: skip
            else:
                self._db.execute("UPDATE tasks SET state = 'ENQUEUED', expiry = ? WHERE id = ? AND counter = ? "
                                 "AND state = 'INIT'", (now + ENQUEUE_LEASE_MS, delivery.task_id, delivery.counter))  # fmt: skip
