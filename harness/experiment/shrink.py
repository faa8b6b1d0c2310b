"""Shrinking: from a plan that breaks an invariant to a minimal plan that still does.

Greedy, in the spirit of delta debugging and Hypothesis' shrinker, but with a budget in *flights*
(each candidate costs one pipeline execution): first drop whole faults (one at a time, keeping any
removal that still reproduces), then make each remaining fault apply to fewer and earlier attempts.
The result is 1-minimal: removing any one fault, or any one attempt, no longer reproduces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from harness.experiment.model import ExperimentPlan, PlannedFault


@dataclass
class ShrinkResult:
    original: ExperimentPlan
    minimal: ExperimentPlan
    tried: int = 0  # candidate plans flown
    steps: list[str] = field(default_factory=list)  # what each accepted step removed


def shrink(plan: ExperimentPlan, reproduces: Callable[[ExperimentPlan], bool], *, budget: int = 24) -> ShrinkResult:
    """The smallest plan found, within `budget` flights, for which `reproduces(plan)` stays True."""
    result = ShrinkResult(original=plan, minimal=plan)
    current = plan
    changed = True
    while changed and result.tried < budget:
        changed = False
        for candidate, step in _candidates(current):
            if result.tried >= budget:
                break
            result.tried += 1
            if reproduces(candidate):
                current, changed = candidate, True
                result.steps.append(step)
                break  # restart from the smaller plan: earlier candidates may now reproduce too
    result.minimal = current
    return result


def _candidates(plan: ExperimentPlan) -> Iterator[tuple[ExperimentPlan, str]]:
    faults = plan.faults
    for i, fault in enumerate(faults):
        yield plan.with_faults(faults[:i] + faults[i + 1:]), f"dropped {fault.describe()}"
    for i, fault in enumerate(faults):
        for smaller in _fewer_attempts(fault):
            yield (plan.with_faults((*faults[:i], smaller, *faults[i + 1:])),
                   f"{fault.describe()} → attempts {list(smaller.attempts)}")


def _fewer_attempts(fault: PlannedFault) -> Iterator[PlannedFault]:
    """The same fault on fewer attempts: drop the last one, then start earlier (1 is the earliest)."""
    attempts = fault.attempts
    if len(attempts) > 1:
        yield fault.with_attempts(attempts[:-1])
    if attempts and min(attempts) > 1:
        shift = min(attempts) - 1
        yield fault.with_attempts(tuple(a - shift for a in attempts))
