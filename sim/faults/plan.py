"""The fault plan model: an ordered list of faults, first match wins, every application recorded.

Attempt selection is exact ("attempts 1-2 fail, 3 succeeds") so retry paths are deterministic; a fault
may instead carry a `probability`, drawn from the plan's seeded generator, for chaos experiments.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import clock

KINDS = ("lambda", "state", "databricks_task", "aws", "cluster", "glue")

# The effects each target kind understands; anything else is a plan error naming the fault.
EFFECTS: dict[str, set[str]] = {
    "lambda": {"error", "timeout", "delay_seconds", "return"},
    "state": {"result", "error"},
    "databricks_task": {"result_state", "internal_error", "timeout", "slow_start_seconds", "message"},
    "aws": {"error", "status", "message", "throttle"},
    "cluster": {"kill_worker"},
    "glue": {"error", "timeout"},
}


class PlanError(ValueError):
    """A fault plan is malformed: the message names the fault (by index) and the field."""


@dataclass(frozen=True)
class Target:
    """What a fault applies to. `name` is the function / state machine / job / service; `detail` narrows it
    (state name, task key, API operation)."""

    kind: str
    name: str
    detail: str | None = None

    def matches(self, kind: str, name: str, detail: str | None) -> bool:
        if kind != self.kind or self.name not in ("*", name):
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

    def applies_to(self, occurrence: int, rng: random.Random) -> bool:
        if self.attempts is not None and occurrence not in self.attempts:
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
        **effect: Any,
    ) -> FaultPlan:
        """The Python API: `plan.add("lambda", "validate", attempts="1-2", error="Lambda.ServiceException")`."""
        index = len(self.faults)
        fault = _build_fault(
            {
                "target": {"kind": kind, "name": name, "detail": detail},
                "attempts": attempts,
                "probability": probability,
                "scope": scope,
                "label": label,
                "effect": effect,
            },
            index,
        )
        self.faults.append(fault)
        return self

    # --- applying ------------------------------------------------------------------------------------
    def take(self, kind: str, name: str, detail: str | None = None, *, scope: str | None = None,
             instance: str | None = None) -> Effect | None:
        """Count one occurrence of (kind, name, detail) and return the effect of the first fault that
        applies to it, recording it; None means "behave normally".

        Occurrences are counted per `scope` and, when given, per `instance` (an execution ARN: Step
        Functions Local numbers a state's mocked responses within one execution)."""
        with self._lock:
            key = (kind, name, detail, scope if instance is None else f"{scope}@{instance}")
            self._counts[key] += 1
            occurrence = self._counts[key]
            for fault in self.faults:
                if fault.scope not in (None, scope):
                    continue
                if fault.target.matches(kind, name, detail) and fault.applies_to(occurrence, self._rng):
                    self.applied.append(
                        AppliedFault(
                            at=clock.now(),
                            target=str(Target(kind, name, detail)),
                            occurrence=occurrence,
                            effect=dict(fault.effect.values),
                            label=fault.label,
                            scope=scope,
                        )
                    )
                    return fault.effect
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
        return cls(faults=[_build_fault(f, i) for i, f in enumerate(faults)], seed=int(data.get("seed", 0)))


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


def _build_fault(raw: Any, index: int) -> Fault:
    where = f"faults[{index}]"
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: each fault is a mapping with target, effect")
    unknown = set(raw) - {"target", "attempts", "calls", "probability", "scope", "label", "effect"}
    if unknown:
        raise PlanError(f"{where}: unknown field(s) {sorted(unknown)}")
    target_raw = raw.get("target")
    if not isinstance(target_raw, Mapping) or "kind" not in target_raw or "name" not in target_raw:
        raise PlanError(f"{where}.target: needs 'kind' (one of {', '.join(KINDS)}) and 'name'")
    kind = target_raw["kind"]
    if kind not in KINDS:
        raise PlanError(f"{where}.target.kind: {kind!r} is not one of {', '.join(KINDS)}")
    effect = raw.get("effect")
    if not isinstance(effect, Mapping) or not effect:
        raise PlanError(f"{where}.effect: a non-empty mapping is required")
    bad = set(effect) - EFFECTS[kind]
    if bad:
        raise PlanError(f"{where}.effect: {sorted(bad)} not understood for {kind} targets (use {sorted(EFFECTS[kind])})")
    probability = raw.get("probability")
    if probability is not None and not 0 <= float(probability) <= 1:
        raise PlanError(f"{where}.probability: must be between 0 and 1, got {probability}")
    attempts = raw.get("attempts", raw.get("calls"))
    return Fault(
        target=Target(kind=kind, name=str(target_raw["name"]), detail=target_raw.get("detail")),
        effect=Effect(dict(effect)),
        attempts=parse_attempts(attempts, f"{where}.attempts"),
        probability=None if probability is None else float(probability),
        scope=raw.get("scope"),
        label=str(raw.get("label", "")),
    )


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
