"""Structural validation of a state machine, each problem naming the state and field at fault.

The checks are statelint's (PyPI `statelint`, a Python port of awslabs/statelint, the linter AWS
published for the States Language): StartAt and every Next/Default/Catch target exist, no state is
unreachable, non-terminal states have Next or End, Choice rules are well formed, Retry/Catch fields
are typed, Task has a Resource... We only turn its findings into `Problem` values that carry the
state and field, so callers (and error messages) can point at them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statelint.config import Config
from statelint.linter import Linter
from statelint.problem import ProblemType

from asl.errors import DefinitionInvalid

__all__ = ["Problem", "check", "validate"]

# statelint names places as "State Machine.States.<state>.<field>" (nested machines repeat ".States.").
_PATH = re.compile(r"State Machine(?:\.[^\s\"]+)?")
_STATE_IN_PATH = re.compile(r"\.States\.([^.\[\s\"]+)")
# AWS accepts integers where the spec says float (the seeds' `"BackoffRate": 2` deploys), so do we.
_CONFIG = Config(ignored_problem_types={ProblemType.FLOAT})
_MISSING_TARGET = re.compile(r'^No state found named "([^"]*)"')
_UNREACHABLE = re.compile(r"^No transition found to state State Machine.*\.([^.\s]+)$")


@dataclass(frozen=True)
class Problem:
    """One finding: what is wrong, and where (state None = the top level; field None = the state itself)."""

    message: str
    state: str | None
    field: str | None

    def __str__(self) -> str:
        where = "top level" if self.state is None else f"state {self.state!r}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


def validate(definition: Mapping[str, Any]) -> list[Problem]:
    """Every structural problem of `definition` (empty when it is valid)."""
    states = _all_states(definition)
    problems = [
        _pinpoint(_problem(message), states) for message in Linter.validate(dict(definition), _CONFIG)
    ]
    return problems + _own_checks(states)


def check(definition: Mapping[str, Any], *, name: str = "definition") -> None:
    """Raise DefinitionInvalid listing every problem, if there is any."""
    problems = validate(definition)
    if problems:
        raise DefinitionInvalid(name, problems)


def _problem(message: str) -> Problem:
    unreachable = _UNREACHABLE.match(message)
    if unreachable:
        return Problem(message, unreachable.group(1), None)
    # A "referenced at <path>" names the place that is wrong; otherwise the first path in the message.
    referenced = message.rsplit("referenced at ", 1)
    path_match = _PATH.search(referenced[1] if len(referenced) == 2 else message)
    if not path_match:
        return Problem(message, None, "StartAt" if "StartAt" in message else None)
    path = path_match.group(0)
    states = list(_STATE_IN_PATH.finditer(path))
    if not states:
        field = path[len("State Machine.") :] or ("StartAt" if "StartAt" in message else None)
        return Problem(message, None, field)
    last = states[-1]
    field = path[last.end() :].lstrip(".") or None
    return Problem(message, last.group(1), field)


def _all_states(machine: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every state by name, nested ones (Map ItemProcessor/Iterator, Parallel branches) included."""
    found: dict[str, Mapping[str, Any]] = {}
    states = machine.get("States")
    if not isinstance(states, Mapping):
        return found
    for name, spec in states.items():
        if not isinstance(spec, Mapping):
            continue
        found[name] = spec
        nested = [spec.get("ItemProcessor"), spec.get("Iterator")]
        branches = spec.get("Branches")
        nested += list(branches) if isinstance(branches, list) else []
        for inner in nested:
            if isinstance(inner, Mapping):
                found |= _all_states(inner)
    return found


def _own_checks(states: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """What statelint 3.1 lets through: it treats a Task's Resource as optional; AWS requires it."""
    return [
        Problem(
            'Task state has no "Resource" (the ARN of the function or integration it calls)', name, "Resource"
        )
        for name, spec in states.items()
        if spec.get("Type") == "Task" and not isinstance(spec.get("Resource"), str)
    ]


def _pinpoint(problem: Problem, states: Mapping[str, Mapping[str, Any]]) -> Problem:
    """statelint reports every missing transition target at `.Next`; find the field that holds it."""
    missing = _MISSING_TARGET.match(problem.message)
    spec = states.get(problem.state or "")
    if not missing or spec is None:
        return problem
    target = missing.group(1)
    candidates = [("Next", spec.get("Next")), ("Default", spec.get("Default"))]
    for key in ("Choices", "Catch"):
        items = spec.get(key)
        if isinstance(items, list):
            candidates += [
                (f"{key}[{i}].Next", item.get("Next"))
                for i, item in enumerate(items)
                if isinstance(item, Mapping)
            ]
    for field, value in candidates:
        if value == target:
            return Problem(problem.message, problem.state, field)
    return problem
