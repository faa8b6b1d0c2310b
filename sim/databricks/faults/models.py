"""The workspace's fault API (`workspace.faults`, `/api/2.0/stepbricks/faults`): a thin adapter that adds and
removes faults in the one fault plan (`sim.faults.FaultPlan`) of the workspace's simulator.

Two shapes, kept as the API has always taken them, each turned into one plan `Fault` when added:

- `HttpFault` — answer `METHOD /path` (fnmatch pattern, e.g. ``POST /api/2.*/jobs/run-now``) with an
  error for `times` calls after skipping `offset` matching calls, like databricks/cli's testserver
  `{pattern, status_code, body, offset, times}`. 429 and 503 carry an integer `Retry-After`, which
  databricks-sdk honours. `after_handler=True` lets the request take effect and *then* answers the
  error ("it succeeded but the client saw a 503") — the fault that finds double-submission bugs.
  In the plan: a `databricks_http` fault with the same `offset` and `times`.
- `TaskFault` — make a job's task attempt end the way you choose without running it (`FAILED`,
  `INTERNAL_ERROR`, `TIMEDOUT`), or start it late (`effect="SLOW_START"`, `delay_seconds`). Its `attempts`
  are 0-based like the API's attempt_number; in the plan (`databricks_task`) they are 1-based: `to_plan`
  converts, here and nowhere else.

Matching, counting and the record of what fired are the plan's (`FaultPlan.take_fault`, `.applied`): a
fault added here and one loaded from a plan file are the same thing, first match wins across both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from sim import context as sim_context
from sim.databricks.faults.cluster_kill import kill_when_started
from sim.faults import Effect, Fault, FaultPlan, PlanError, build_fault

TaskEffect = Literal["FAILED", "INTERNAL_ERROR", "TIMEDOUT", "SLOW_START"]
_TASK_EFFECTS = ("FAILED", "INTERNAL_ERROR", "TIMEDOUT", "SLOW_START")


class _Counted:
    """`seen` / `fired` of the plan fault this API fault became (0 before it is added)."""

    _plan_fault: Fault | None

    @property
    def seen(self) -> int:
        return self._plan_fault.seen if self._plan_fault is not None else 0

    @property
    def fired(self) -> int:
        return self._plan_fault.fired if self._plan_fault is not None else 0

    def as_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")},  # type: ignore[arg-type]
                "seen": self.seen, "fired": self.fired}


@dataclass
class HttpFault(_Counted):
    pattern: str
    status_code: int = 429
    body: dict[str, Any] | None = None
    offset: int = 0
    times: int | None = 1  # None = every matching call
    retry_after: int | None = 1  # seconds; sent for 429 and 503 only
    after_handler: bool = False
    kind: Literal["http"] = "http"
    fault_id: int = 0
    _plan_fault: Fault | None = field(default=None, init=False, repr=False, compare=False)

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

    def to_plan(self, index: int) -> Fault:
        effect: dict[str, Any] = {"status_code": self.status_code, "retry_after": self.retry_after,
                                  "after_handler": self.after_handler}
        if self.body is not None:
            effect["body"] = self.body
        return build_fault({"target": {"kind": "databricks_http", "name": self.pattern}, "offset": self.offset,
                            "times": self.times, "label": f"workspace fault {self.fault_id}", "effect": effect}, index)

    @classmethod
    def from_plan(cls, fault: Fault) -> HttpFault:
        """The response a plan's `databricks_http` fault gives (defaults as `workspace.faults.http`'s)."""
        effect = fault.effect
        view = cls(pattern=fault.target.name, status_code=int(effect.get("status_code", 429)),
                   body=effect.get("body"), offset=fault.offset, times=fault.times,
                   retry_after=effect.get("retry_after", 1), after_handler=bool(effect.get("after_handler", False)))
        view._plan_fault = fault
        return view


@dataclass
class TaskFault(_Counted):
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
    _plan_fault: Fault | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.effect not in _TASK_EFFECTS:
            raise ValueError(f"effect must be one of {', '.join(_TASK_EFFECTS)}, got {self.effect!r}")
        if self.attempts is not None and any(isinstance(a, bool) or not isinstance(a, int) or a < 0
                                             for a in self.attempts):
            raise ValueError(f"attempts are 0-based attempt numbers, got {self.attempts!r}")

    def to_plan(self, index: int) -> Fault:
        effect: dict[str, Any] = (
            {"slow_start_seconds": float(self.delay_seconds)} if self.effect == "SLOW_START"
            else {"internal_error": True} if self.effect == "INTERNAL_ERROR"
            else {"timeout": True} if self.effect == "TIMEDOUT"
            else {"result_state": "FAILED"}
        )
        if self.message is not None:
            effect["message"] = self.message
        target: dict[str, Any] = {"kind": "databricks_task", "name": self.job_name or "*", "detail": self.task_key}
        if self.job_id is not None:
            target["job_id"] = self.job_id
        return build_fault({
            "target": target,
            # the API's attempt_number is 0-based, the plan's attempts 1-based: the one conversion
            "attempts": None if self.attempts is None else [a + 1 for a in self.attempts],
            "times": self.times, "label": f"workspace fault {self.fault_id}", "effect": effect,
        }, index)

    @classmethod
    def outcome_of(cls, effect: Effect) -> TaskFault:
        """How the scheduler ends (or delays) an attempt for a `databricks_task` effect."""
        message = effect.get("message")
        if effect.get("slow_start_seconds"):
            return cls("SLOW_START", delay_seconds=float(effect["slow_start_seconds"]), message=message)
        if effect.get("internal_error"):
            return cls("INTERNAL_ERROR", message=message)
        if effect.get("timeout"):
            return cls("TIMEDOUT", message=message)
        return cls(str(effect.get("result_state", "FAILED")), message=message)  # type: ignore[arg-type]


ApiFault = HttpFault | TaskFault


def fault_from_dict(data: dict[str, Any]) -> ApiFault:
    """Build a fault from its JSON form; `kind` is "http" (default when `pattern` is given) or "task"."""
    data = {k: v for k, v in data.items() if k not in ("fault_id", "seen", "fired")}
    kind = data.pop("kind", "http" if "pattern" in data else "task")
    cls = {"http": HttpFault, "task": TaskFault}.get(kind)
    if cls is None:
        raise ValueError(f"kind must be 'http' or 'task', got {kind!r}")
    known = {f.name for f in fields(cls) if not f.name.startswith("_")} - {"kind"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown field(s) for a {kind} fault: {', '.join(unknown)}")
    return cls(**data)


class FaultList:
    """The workspace's fault API over a fault plan. Thread-safe.

    `plan` is where the faults go and are matched: a callable, read on every use, so a workspace inside a
    `Simulator` follows its context's plan (`sim.faults.activate` replaces it); without one (a workspace
    started on its own, or a bare `FaultList()`) the list owns a plan of its own, so standalone workspaces
    in one process never see each other's faults."""

    def __init__(self, plan: Callable[[], FaultPlan] | None = None) -> None:
        if plan is None:
            own = FaultPlan()
            plan = lambda: own  # noqa: E731
        self._plan_of = plan
        self._lock = threading.Lock()
        self._next_id = 1
        self._added: dict[int, tuple[FaultPlan, ApiFault]] = {}  # fault_id -> (the plan it went to, the fault)
        self._views: dict[int, ApiFault] = {}  # id(plan fault) -> the API fault it came from

    @classmethod
    def for_context(cls, ctx: sim_context.SimContext) -> FaultList:
        """A simulator's workspace uses the simulator's plan; the base context's (no simulator) gets its own."""
        if ctx is sim_context.base():
            return cls()
        return cls(lambda: ctx.faults)

    @property
    def plan(self) -> FaultPlan:
        """The plan these faults live in and are recorded by (`.applied`)."""
        return self._plan_of()

    def add(self, fault: ApiFault) -> ApiFault:
        plan = self.plan
        with self._lock:
            fault.fault_id = self._next_id
            self._next_id += 1
            try:
                fault._plan_fault = fault.to_plan(len(plan.faults))
            except PlanError as e:
                raise ValueError(str(e)) from None
            self._added[fault.fault_id] = (plan, fault)
            self._views[id(fault._plan_fault)] = fault
        plan.add_fault(fault._plan_fault)
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
            entry = self._added.pop(fault_id, None)
            if entry is not None:
                self._views.pop(id(entry[1]._plan_fault), None)
        if entry is None:
            return False
        plan, fault = entry
        assert fault._plan_fault is not None
        plan.remove_fault(fault._plan_fault)
        return True

    def reset(self) -> None:
        """Remove every fault added through this API (faults the plan was loaded with stay; so does the
        record of what fired)."""
        with self._lock:
            ids = list(self._added)
        for fault_id in ids:
            self.remove(fault_id)

    def list(self) -> list[dict[str, Any]]:
        """The faults added through this API, with their counters (`seen`, `fired`)."""
        with self._lock:
            return [fault.as_dict() for _, fault in self._added.values()]

    # --- what the server and the scheduler ask -----------------------------------------------------------
    def take_http(self, method: str, path: str) -> HttpFault | None:
        """The HTTP fault this call triggers (counted and recorded by the plan), or None."""
        fault = self.plan.take_fault("databricks_http", f"{method.upper()} {path}")
        if fault is None:
            return None
        view = self._views.get(id(fault))
        return view if isinstance(view, HttpFault) else HttpFault.from_plan(fault)

    def take_task(self, *, job_id: int | None, job_name: str, task_key: str, attempt: int) -> TaskFault | None:
        """How attempt `attempt` (0-based) of `task_key` in a run of `job_name` / `job_id` must go, or None."""
        fault = self.plan.take_fault("databricks_task", job_name, task_key, occurrence=attempt + 1, job_id=job_id)
        return None if fault is None else TaskFault.outcome_of(fault.effect)

    def kill_worker_mid_task(self, cluster: Any, handle: Any, *, job_name: str, task_key: str, run_id: int,
                             job_id: int | None = None) -> None:
        """If a `cluster` fault says so, kill `cluster`'s worker once the attempt `handle` has started running
        (`kill_worker: true`, or seconds after the start): the attempt ends INTERNAL_ERROR "cluster worker
        died" and the cluster restarts, as when a Databricks driver is lost. Occurrences are counted per run."""
        effect = self.plan.take("cluster", job_name, task_key, instance=f"run-{run_id}", job_id=job_id)
        if effect is None or not effect.get("kill_worker"):
            return
        after = effect["kill_worker"]
        delay = 0.0 if after is True else float(after)
        sim_context.Thread(target=kill_when_started, args=(cluster, handle, delay), daemon=True,
                           name=f"fault-kill-{cluster.cluster_id}").start()
