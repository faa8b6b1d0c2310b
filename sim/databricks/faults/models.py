"""Faults as data, settable from Python (`workspace.faults`) and over HTTP (`/api/2.0/stepbricks/faults`).

Two kinds, kept in one ordered list where the first matching fault wins:

- `HttpFault` — answer `METHOD /path` (fnmatch pattern, e.g. ``POST /api/2.*/jobs/run-now``) with an
  error for `times` calls after skipping `offset` matching calls, like databricks/cli's testserver
  `{pattern, status_code, body, offset, times}`. 429 and 503 carry an integer `Retry-After`, which
  databricks-sdk honours. `after_handler=True` lets the request take effect and *then* answers the
  error ("it succeeded but the client saw a 503") — the fault that finds double-submission bugs.
- `TaskFault` — make a job's task attempt end the way you choose without running it (`FAILED`,
  `INTERNAL_ERROR`, `TIMEDOUT`), or start it late (`effect="SLOW_START"`, `delay_seconds`).
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

TaskEffect = Literal["FAILED", "INTERNAL_ERROR", "TIMEDOUT", "SLOW_START"]
_TASK_EFFECTS = ("FAILED", "INTERNAL_ERROR", "TIMEDOUT", "SLOW_START")


@dataclass
class HttpFault:
    pattern: str
    status_code: int = 429
    body: dict[str, Any] | None = None
    offset: int = 0
    times: int | None = 1  # None = every matching call
    retry_after: int | None = 1  # seconds; sent for 429 and 503 only
    after_handler: bool = False
    kind: Literal["http"] = "http"
    fault_id: int = 0
    seen: int = 0  # matching calls so far
    fired: int = 0  # calls answered with the error so far

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(f"{method.upper()} {path}", self.pattern)

    def response_body(self) -> dict[str, Any]:
        if self.body is not None:
            return self.body
        codes = {429: "TOO_MANY_REQUESTS", 503: "TEMPORARILY_UNAVAILABLE", 500: "INTERNAL_ERROR"}
        code = codes.get(self.status_code, "INTERNAL_ERROR")
        return {"error_code": code, "message": f"Injected fault: {code} ({self.pattern})"}

    def headers(self) -> dict[str, str]:
        if self.status_code in (429, 503) and self.retry_after is not None:
            return {"Retry-After": str(int(self.retry_after))}
        return {}


@dataclass
class TaskFault:
    """Match by `job_id` or `job_name`/`run_name` (None = any), `task_key` (None = any), `attempts`
    (attempt numbers, 0-based like the API's attempt_number; None = every attempt)."""

    effect: TaskEffect = "FAILED"
    job_id: int | None = None
    job_name: str | None = None
    task_key: str | None = None
    attempts: list[int] | None = None
    message: str | None = None
    delay_seconds: float = 0.0
    times: int | None = None  # None = every matching attempt
    kind: Literal["task"] = "task"
    fault_id: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.effect not in _TASK_EFFECTS:
            raise ValueError(f"effect must be one of {', '.join(_TASK_EFFECTS)}, got {self.effect!r}")

    def matches(self, *, job_id: int | None, job_name: str, task_key: str, attempt: int) -> bool:
        return (
            (self.job_id is None or self.job_id == job_id)
            and (self.job_name is None or self.job_name == job_name)
            and (self.task_key is None or self.task_key == task_key)
            and (self.attempts is None or attempt in self.attempts)
            and (self.times is None or self.fired < self.times)
        )


Fault = HttpFault | TaskFault


def fault_from_dict(data: dict[str, Any]) -> Fault:
    """Build a fault from its JSON form; `kind` is "http" (default when `pattern` is given) or "task"."""
    data = {k: v for k, v in data.items() if k not in ("fault_id", "seen", "fired")}
    kind = data.pop("kind", "http" if "pattern" in data else "task")
    cls = {"http": HttpFault, "task": TaskFault}.get(kind)
    if cls is None:
        raise ValueError(f"kind must be 'http' or 'task', got {kind!r}")
    known = set(cls.__dataclass_fields__) - {"kind"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown field(s) for a {kind} fault: {', '.join(unknown)}")
    return cls(**data)


@dataclass
class FaultList:
    """The workspace's faults. Thread-safe; the server consults it on every request and task attempt."""

    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.fault_id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def http(self, pattern: str, status_code: int = 429, **kwargs: Any) -> HttpFault:
        """Shorthand: `faults.http("POST /api/2.*/jobs/run-now", 429, times=1)`."""
        fault = self.add(HttpFault(pattern=pattern, status_code=status_code, **kwargs))
        assert isinstance(fault, HttpFault)
        return fault

    def task(self, effect: TaskEffect = "FAILED", **kwargs: Any) -> TaskFault:
        """Shorthand: `faults.task("FAILED", job_id=7, task_key="train", attempts=[0])`."""
        fault = self.add(TaskFault(effect=effect, **kwargs))
        assert isinstance(fault, TaskFault)
        return fault

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.fault_id != fault_id]
            return len(self._faults) < before

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take_http(self, method: str, path: str) -> HttpFault | None:
        """The first HTTP fault this call triggers (and count it), or None."""
        with self._lock:
            for fault in self._faults:
                if not isinstance(fault, HttpFault) or not fault.matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.offset or (fault.times is not None and fault.fired >= fault.times):
                    continue
                fault.fired += 1
                return fault
        return None

    def take_task(self, *, job_id: int | None, job_name: str, task_key: str, attempt: int) -> TaskFault | None:
        with self._lock:
            for fault in self._faults:
                if isinstance(fault, TaskFault) and fault.matches(
                    job_id=job_id, job_name=job_name, task_key=task_key, attempt=attempt
                ):
                    fault.fired += 1
                    return fault
        return None
