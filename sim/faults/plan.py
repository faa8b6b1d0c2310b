"""The fault plan model: an ordered list of faults, first match wins, every application recorded.

The one fault system of the simulator: Lambda, Step Functions state, AWS API, Glue, Databricks task, HTTP
and cluster faults are all `Fault`s of one plan, matched by `FaultPlan.take` and recorded in
`FaultPlan.applied` (the workspace's `workspace.faults` API and its HTTP routes add faults to this plan).

Attempt selection is exact ("attempts 1-2 fail, 3 succeeds") so retry paths are deterministic; a fault
may instead carry a `probability`, drawn from the plan's seeded generator, for chaos experiments.
`offset` and `times` select as databricks/cli's testserver does (let the first `offset` occurrences
through, then fire at most `times` times in all).

Occurrences are counted per call target (kind, name, detail, scope); a `databricks_http` target is an
fnmatch pattern over `METHOD /path`, and its occurrences are the calls matching that pattern which reached
the fault (no earlier fault answered them), as the testserver counts them.
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import clock

KINDS = ("lambda", "state", "databricks_task", "databricks_http", "aws", "cluster", "glue")
# Kinds whose target name is an fnmatch pattern (`POST /api/2.*/jobs/run-now`), counted per fault.
PATTERN_KINDS = frozenset({"databricks_http"})
# Kinds whose target may name a Databricks job by id (`job_id`) as well as, or instead of, by name.
JOB_ID_KINDS = frozenset({"databricks_task", "cluster"})

# The effects each target kind understands; anything else is a plan error naming the fault.
EFFECTS: dict[str, set[str]] = {
    "lambda": {"error", "timeout", "delay_seconds", "return"},
    "state": {"result", "error"},
    "databricks_task": {"result_state", "internal_error", "timeout", "slow_start_seconds", "message"},
    "databricks_http": {"status_code", "body", "retry_after", "after_handler"},
    "aws": {"error", "status", "message", "throttle"},
    "cluster": {"kill_worker"},
    "glue": {"error", "timeout"},
}
TASK_RESULT_STATES = ("FAILED", "INTERNAL_ERROR", "TIMEDOUT")


class PlanError(ValueError):
    """A fault plan is malformed: the message names the fault (by index) and the field."""


@dataclass(frozen=True)
class Target:
    """What a fault applies to. `name` is the function / state machine / job / service (for
    `databricks_http`, a pattern over `METHOD /path`); `detail` narrows it (state name, task key, API
    operation); `job_id` names a Databricks job by id (`databricks_task` and `cluster` targets)."""

    kind: str
    name: str
    detail: str | None = None
    job_id: int | None = None

    def matches(self, kind: str, name: str, detail: str | None, *, job_id: int | None = None) -> bool:
        if kind != self.kind:
            return False
        named = fnmatch.fnmatchcase(name, self.name) if kind in PATTERN_KINDS else self.name in ("*", name)
        if not named or (self.job_id is not None and self.job_id != job_id):
            return False
        return self.detail in (None, "*", detail)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" + (f"/{self.detail}" if self.detail else "")


@dataclass(frozen=True)
class Effect:
    """What happens instead of (or before) the real behaviour. Only the fields the target kind uses are set."""

    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.values


@dataclass
class Fault:
    target: Target
    effect: Effect
    attempts: frozenset[int] | None = None  # 1-based occurrences of the target this fault applies to
    probability: float | None = None
    scope: str | None = None  # e.g. a test case or execution name this fault is limited to
    label: str = ""
    offset: int = 0  # let the first `offset` occurrences through
    times: int | None = None  # fire at most this many times in all (None: no limit)
    # What happened so far (the plan's lock guards them): occurrences that reached this fault, and firings.
    seen: int = field(default=0, init=False, compare=False, repr=False)
    fired: int = field(default=0, init=False, compare=False, repr=False)

    def applies_to(self, occurrence: int, rng: random.Random) -> bool:
        if self.attempts is not None and occurrence not in self.attempts:
            return False
        if occurrence <= self.offset or (self.times is not None and self.fired >= self.times):
            return False
        return not (self.probability is not None and rng.random() >= self.probability)


@dataclass(frozen=True)
class AppliedFault:
    """A record of one fault applied: shown in the run report and in experiment verdicts."""

    at: float  # the simulator clock's time
    target: str
    occurrence: int
    effect: Mapping[str, Any]
    label: str = ""
    scope: str | None = None


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    seed: int = 0
    applied: list[AppliedFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, str | None, str | None]] = Counter()
        self._rng = random.Random(self.seed)

    # --- building ------------------------------------------------------------------------------------
    def add(
        self,
        kind: str,
        name: str,
        *,
        detail: str | None = None,
        attempts: Iterable[int] | str | int | None = None,
        probability: float | None = None,
        scope: str | None = None,
        label: str = "",
        offset: int = 0,
        times: int | None = None,
        job_id: int | None = None,
        **effect: Any,
    ) -> FaultPlan:
        """The Python API: `plan.add("lambda", "validate", attempts="1-2", error="Lambda.ServiceException")`."""
        target: dict[str, Any] = {"kind": kind, "name": name, "detail": detail}
        if job_id is not None:
            target["job_id"] = job_id
        self.add_fault(build_fault(
            {"target": target, "attempts": attempts, "probability": probability, "scope": scope, "label": label,
             "offset": offset, "times": times, "effect": effect},
            len(self.faults),
        ))
        return self

    def add_fault(self, fault: Fault) -> Fault:
        """Append a built fault (last in the first-match order); returns it."""
        with self._lock:
            self.faults.append(fault)
        return fault

    def remove_fault(self, fault: Fault) -> bool:
        """Remove this very fault (by identity); False if the plan does not hold it."""
        with self._lock:
            for i, held in enumerate(self.faults):
                if held is fault:
                    del self.faults[i]
                    return True
            return False

    # --- applying ------------------------------------------------------------------------------------
    def take(self, kind: str, name: str, detail: str | None = None, *, scope: str | None = None,
             instance: str | None = None, occurrence: int | None = None, job_id: int | None = None) -> Effect | None:
        """Count one occurrence of (kind, name, detail) and return the effect of the first fault that
        applies to it, recording it; None means "behave normally" (see `take_fault`)."""
        fault = self.take_fault(kind, name, detail, scope=scope, instance=instance, occurrence=occurrence,
                                job_id=job_id)
        return None if fault is None else fault.effect

    def take_fault(self, kind: str, name: str, detail: str | None = None, *, scope: str | None = None,
                   instance: str | None = None, occurrence: int | None = None,
                   job_id: int | None = None) -> Fault | None:
        """The first fault that applies to this occurrence of (kind, name, detail), recorded in `applied`.

        Occurrences are counted per `scope` and, when given, per `instance` (an execution ARN: Step
        Functions Local numbers a state's mocked responses within one execution). A caller that knows
        which occurrence this is passes it (`occurrence`: a Databricks task's attempt_number + 1).
        A `databricks_http` fault counts the calls that reach it instead (see the module docstring)."""
        with self._lock:
            per_fault = kind in PATTERN_KINDS
            if occurrence is None and not per_fault:
                key = (kind, name, detail, scope if instance is None else f"{scope}@{instance}")
                self._counts[key] += 1
                occurrence = self._counts[key]
            for fault in self.faults:
                if fault.scope not in (None, scope) or not fault.target.matches(kind, name, detail, job_id=job_id):
                    continue
                fault.seen += 1
                n = fault.seen if per_fault or occurrence is None else occurrence
                if not fault.applies_to(n, self._rng):
                    continue
                fault.fired += 1
                self.applied.append(
                    AppliedFault(
                        at=clock.now(),
                        target=str(Target(kind, name, detail)),
                        occurrence=n,
                        effect=dict(fault.effect.values),
                        label=fault.label,
                        scope=scope,
                    )
                )
                return fault
            return None

    def scopes(self) -> set[str]:
        """Every scope some fault is limited to (e.g. `<state machine>#<test case>`)."""
        return {f.scope for f in self.faults if f.scope}

    def reset(self) -> None:
        """Forget occurrences and applications (the faults stay)."""
        with self._lock:
            self._counts.clear()
            self.applied.clear()
            self._rng = random.Random(self.seed)
            for fault in self.faults:
                fault.seen = fault.fired = 0

    # --- serialising ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "faults": [
                {
                    "target": {k: v for k, v in vars(f.target).items() if v is not None},
                    **({"attempts": sorted(f.attempts)} if f.attempts is not None else {}),
                    **({"probability": f.probability} if f.probability is not None else {}),
                    **({"scope": f.scope} if f.scope else {}),
                    **({"label": f.label} if f.label else {}),
                    **({"offset": f.offset} if f.offset else {}),
                    **({"times": f.times} if f.times is not None else {}),
                    "effect": dict(f.effect.values),
                }
                for f in self.faults
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultPlan:
        if not isinstance(data, Mapping):
            raise PlanError(f"a fault plan is a mapping with 'faults', got {type(data).__name__}")
        unknown = set(data) - {"seed", "faults"}
        if unknown:
            raise PlanError(f"fault plan: unknown top-level field(s) {sorted(unknown)}; expected 'seed', 'faults'")
        faults = data.get("faults") or []
        if not isinstance(faults, list):
            raise PlanError("fault plan: 'faults' must be a list")
        return cls(faults=[build_fault(f, i) for i, f in enumerate(faults)], seed=int(data.get("seed", 0)))


def load_plan(path: Path | str) -> FaultPlan:
    """Read a plan from YAML or JSON (by extension; YAML is a superset, so anything else is read as YAML)."""
    path = Path(path)
    text = path.read_text()
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except ValueError as exc:
        raise PlanError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from exc
    try:
        return FaultPlan.from_dict(data or {})
    except PlanError as exc:
        raise PlanError(f"{path}: {exc}") from exc


def parse_attempts(value: Iterable[int] | str | int | None, where: str) -> frozenset[int] | None:
    """`2`, `"1-2"`, `"1,3,5-6"` or `[1, 2]` → {1, 2, ...} (1-based)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PlanError(f"{where}: attempts must be numbers or ranges, got {value!r}")
    if isinstance(value, int):
        values: set[int] = {value}
    elif isinstance(value, str):
        values = set()
        for part in value.replace(" ", "").split(","):
            lo, _, hi = part.partition("-")
            try:
                start, end = int(lo), int(hi or lo)
            except ValueError:
                raise PlanError(f"{where}: attempts {value!r} is not like '1-2' or '1,3'") from None
            if end < start:
                raise PlanError(f"{where}: attempts range {part!r} runs backwards")
            values.update(range(start, end + 1))
    else:
        try:
            values = {int(v) for v in value}
        except (TypeError, ValueError):
            raise PlanError(f"{where}: attempts must be numbers or ranges, got {value!r}") from None
    if any(v < 1 for v in values):
        raise PlanError(f"{where}: attempts are 1-based, got {sorted(values)}")
    return frozenset(values)


def build_fault(raw: Any, index: int) -> Fault:
    """One fault from its data form (`to_dict`'s entries); errors name `faults[index]` and the field."""
    where = f"faults[{index}]"
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: each fault is a mapping with target, effect")
    unknown = set(raw) - {"target", "attempts", "calls", "probability", "scope", "label", "offset", "times", "effect"}
    if unknown:
        raise PlanError(f"{where}: unknown field(s) {sorted(unknown)}")
    target_raw = raw.get("target")
    if not isinstance(target_raw, Mapping) or "kind" not in target_raw or "name" not in target_raw:
        raise PlanError(f"{where}.target: needs 'kind' (one of {', '.join(KINDS)}) and 'name'")
    kind = target_raw["kind"]
    if kind not in KINDS:
        raise PlanError(f"{where}.target.kind: {kind!r} is not one of {', '.join(KINDS)}")
    bad_target = set(target_raw) - {"kind", "name", "detail", *(["job_id"] if kind in JOB_ID_KINDS else [])}
    if bad_target:
        raise PlanError(f"{where}.target: {sorted(bad_target)} not understood for {kind} targets")
    job_id = target_raw.get("job_id")
    if job_id is not None and (isinstance(job_id, bool) or not isinstance(job_id, int)):
        raise PlanError(f"{where}.target.job_id: must be a job id (an integer), got {job_id!r}")
    effect = raw.get("effect")
    if not isinstance(effect, Mapping) or not effect:
        raise PlanError(f"{where}.effect: a non-empty mapping is required")
    bad = set(effect) - EFFECTS[kind]
    if bad:
        raise PlanError(f"{where}.effect: {sorted(bad)} not understood for {kind} targets (use {sorted(EFFECTS[kind])})")
    _check_effect_values(kind, effect, f"{where}.effect")
    probability = raw.get("probability")
    if probability is not None and not 0 <= float(probability) <= 1:
        raise PlanError(f"{where}.probability: must be between 0 and 1, got {probability}")
    attempts = raw.get("attempts", raw.get("calls"))
    return Fault(
        target=Target(kind=kind, name=str(target_raw["name"]), detail=target_raw.get("detail"), job_id=job_id),
        effect=Effect(dict(effect)),
        attempts=parse_attempts(attempts, f"{where}.attempts"),
        probability=None if probability is None else float(probability),
        scope=raw.get("scope"),
        label=str(raw.get("label") or ""),
        offset=_count(raw.get("offset"), f"{where}.offset", default=0),
        times=_count(raw.get("times"), f"{where}.times", default=None),
    )


def _count(value: Any, where: str, *, default: int | None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PlanError(f"{where}: must be a whole number >= 0, got {value!r}")
    return value


def _check_effect_values(kind: str, effect: Mapping[str, Any], where: str) -> None:
    """Values the services cannot act on are plan errors at load time, not failures in a server thread."""
    if kind == "databricks_http":
        status = effect.get("status_code", 429)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise PlanError(f"{where}.status_code: must be an HTTP error status (400-599), got {status!r}")
        retry_after = effect.get("retry_after")
        if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, int | float)
                                        or retry_after < 0):
            raise PlanError(f"{where}.retry_after: must be seconds >= 0 (or null for none), got {retry_after!r}")
        body = effect.get("body")
        if body is not None and not isinstance(body, Mapping):
            raise PlanError(f"{where}.body: must be a JSON object, got {type(body).__name__}")
        if not isinstance(effect.get("after_handler", False), bool):
            raise PlanError(f"{where}.after_handler: must be true or false, got {effect['after_handler']!r}")
    elif kind == "databricks_task" and "result_state" in effect and effect["result_state"] not in TASK_RESULT_STATES:
        raise PlanError(f"{where}.result_state: must be one of {', '.join(TASK_RESULT_STATES)}, "
                        f"got {effect['result_state']!r}")


def active() -> FaultPlan:
    """The plan of the simulator the calling thread works for (`sim.context.current().faults`); an empty
    plan (no faults) unless one was given."""
    from sim import context

    return context.current().faults


def activate(plan: FaultPlan | None) -> FaultPlan:
    """Install `plan` (None: no faults) in the calling thread's context; returns the previous plan."""
    from sim import context

    ctx = context.current()
    previous, ctx.faults = ctx.faults, plan or FaultPlan()
    return previous
