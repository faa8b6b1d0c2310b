"""One fault scenario per Retry and Catch edge of a definition, as pytest parameters.

"Every catch path is tested" becomes one line:

    @pytest.mark.parametrize("scenario", fault_scenarios(definition, "my-machine"))
    def test_each_error_path(scenario, ...):
        with activated(scenario.plan): ...  # start an execution, then assert scenario.expected_next ran

A Retry scenario fails the state's first attempt with an error that its retrier (and no earlier one)
matches, then lets the real integration run; a Catch scenario fails every attempt with an error its
catcher (and no earlier one) matches, so retries are exhausted and the catch edge is taken. Faults are
`state` faults: the integration is skipped, as Step Functions Local's mocked responses do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from asl.graph import EdgeKind, Graph
from sim.aws.http_task import is_http_error_name
from sim.faults import FaultPlan

INJECTED = "Stepbricks.InjectedError"


@dataclass(frozen=True)
class FaultScenario:
    id: str
    state: str
    kind: EdgeKind  # RETRY or CATCH
    index: int
    error: str
    expected_next: str  # the state entered after the fault (the state itself for a retry)
    plan: FaultPlan

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


def _error_for(error_equals: Iterable[str], earlier: list[tuple[str, ...]]) -> str | None:
    """A concrete error name this ErrorEquals matches and no earlier one does (None if impossible)."""
    # Custom names, and the HTTP Task's own `States.Http.*` names, are concrete errors a fault can raise.
    candidates = [e for e in error_equals if not e.startswith("States.") or is_http_error_name(e)]
    if {"States.ALL", "States.TaskFailed"} & set(error_equals):
        candidates.append(INJECTED)
    if "States.Timeout" in error_equals:
        candidates.append("States.Timeout")
    for name in candidates:
        if not any(_matches(prev, name) for prev in earlier):
            return name
    return None


def _matches(error_equals: Iterable[str], name: str) -> bool:
    names = set(error_equals)
    return "States.ALL" in names or name in names or ("States.TaskFailed" in names and name != "States.Timeout")


def fault_scenarios(definition: Mapping[str, Any], state_machine: str) -> list[Any]:
    """pytest params, one per Retry and Catch edge of `definition` (deployed as `state_machine`)."""
    graph = Graph.from_definition(definition)
    specs = _state_specs(definition)
    params = []
    for name in graph.states:
        spec = specs[name]
        retriers = [tuple(r.get("ErrorEquals", ())) for r in spec.get("Retry", [])]
        for i, errors in enumerate(retriers):
            error = _error_for(errors, retriers[:i])
            if error is None:
                continue
            plan = FaultPlan()
            plan.add("state", state_machine, detail=name, attempts=1, label=f"retry {i} of {name}",
                     error={"Error": error, "Cause": "injected by a stepbricks fault scenario"})
            params.append(FaultScenario(f"{name}-retry{i}-{error}", name, EdgeKind.RETRY, i, error, name, plan).param())
        catchers = [(tuple(c.get("ErrorEquals", ())), c["Next"]) for c in spec.get("Catch", [])]
        for i, (errors, target) in enumerate(catchers):
            error = _error_for(errors, [c[0] for c in catchers[:i]])
            if error is None:
                continue
            plan = FaultPlan()
            plan.add("state", state_machine, detail=name, label=f"catch {i} of {name}",
                     error={"Error": error, "Cause": "injected by a stepbricks fault scenario"})
            params.append(FaultScenario(f"{name}-catch{i}-{error}", name, EdgeKind.CATCH, i, error, target, plan).param())
    return params


def _state_specs(machine: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    specs: dict[str, Mapping[str, Any]] = {}
    for name, spec in machine.get("States", {}).items():
        specs[name] = spec
        nested = spec.get("ItemProcessor") or spec.get("Iterator")
        if nested:
            specs.update(_state_specs(nested))
        for branch in spec.get("Branches", []):
            specs.update(_state_specs(branch))
    return specs
