"""Coverage of state machines, like coverage.py for code: which states and edges executions exercised.

Computed from execution histories only (any backend keeps them): each `StateEntered` is matched to the
event it follows through `previousEventId`, so concurrent Map iterations do not confuse transitions.
Choice rules are attributed by re-evaluating the rules on the state's input (first match wins, as the
spec says), Retry and Catch edges by matching the error against `ErrorEquals` in order.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asl.graph import Edge, EdgeKind, Graph
from harness.choice_rules import first_matching_rule

_FAILED = {"TaskFailed", "LambdaFunctionFailed", "TaskTimedOut", "LambdaFunctionTimedOut", "ActivityFailed",
           "ActivityTimedOut", "ExecutionFailed", "MapStateFailed", "ParallelStateFailed"}
_SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}


@dataclass
class MachineCoverage:
    name: str
    graph: Graph
    executions: int = 0
    states: Counter[str] = field(default_factory=Counter)
    edges: Counter[Edge] = field(default_factory=Counter)
    choice_rules: dict[str, list[dict]] = field(default_factory=dict)
    definition: Mapping[str, Any] = field(default_factory=dict)

    @property
    def state_percent(self) -> float:
        return 100.0 * len([s for s in self.graph.states if self.states[s]]) / max(1, len(self.graph.states))

    @property
    def edge_percent(self) -> float:
        return 100.0 * len([e for e in self.graph.edges if self.edges[e]]) / max(1, len(self.graph.edges))

    @property
    def missed_edges(self) -> list[Edge]:
        return [e for e in self.graph.edges if not self.edges[e]]

    def add_history(self, events: list[dict]) -> None:
        self.executions += 1
        by_id = {ev["id"]: ev for ev in events}
        entered_input: dict[int, Any] = {}
        for ev in events:
            kind = ev["type"]
            if kind.endswith("StateEntered"):
                details = ev["stateEnteredEventDetails"]
                name = details["name"]
                self.states[name] += 1
                entered_input[ev["id"]] = details.get("input")
                source = self._source_state(ev, by_id)
                if source is not None:
                    self._record_transition(source, name, by_id)
            elif kind in _SCHEDULED:
                state = self._enclosing_state(ev, by_id)
                if state and self._previous_attempt_failed(ev, by_id):
                    self._record_retry(state, self._last_error(ev, by_id))

    # --- attribution ---------------------------------------------------------------------------------
    def _source_state(self, entered: dict, by_id: Mapping[int, dict]) -> dict | None:
        """The StateExited (or failure) event this StateEntered follows, walking `previousEventId`."""
        prev = by_id.get(entered.get("previousEventId", 0))
        while prev is not None:
            if prev["type"].endswith("StateExited") or prev["type"] in _FAILED:
                return prev
            if prev["type"].endswith("StateEntered") or prev["type"] in ("ExecutionStarted", "MapIterationStarted"):
                return None
            prev = by_id.get(prev.get("previousEventId", 0))
        return None

    def _record_transition(self, source_event: dict, target: str, by_id: Mapping[int, dict]) -> None:
        if source_event["type"] in _FAILED:
            state = self._enclosing_state(source_event, by_id)
            if state:
                self._record_catch(state, self._error_of(source_event), target)
            return
        details = source_event["stateExitedEventDetails"]
        source = details["name"]
        candidates = [e for e in self.graph.edges_from(source) if e.target == target]
        if not candidates:
            # A failure inside the state ended it (the exit follows a failed task): a catch edge.
            error = self._last_error(source_event, by_id)
            if error:
                self._record_catch(source, error, target)
            return
        if self.graph.states[source].type == "Choice":
            self._record_choice(source, target, self._input_of(source_event, by_id))
            return
        kinds = {e.kind for e in candidates}
        if EdgeKind.NEXT in kinds:
            self.edges[next(e for e in candidates if e.kind is EdgeKind.NEXT)] += 1
        else:
            error = self._last_error(source_event, by_id)
            self._record_catch(source, error or "States.ALL", target)

    def _record_choice(self, state: str, target: str, state_input: Any) -> None:
        spec_rules = self.choice_rules.get(state)
        index = first_matching_rule(spec_rules, state_input) if spec_rules is not None else None
        edges = self.graph.edges_from(state)
        if index is not None and index >= 0:
            edge = next((e for e in edges if e.kind is EdgeKind.CHOICE and e.index == index), None)
            if edge is not None and edge.target == target:
                self.edges[edge] += 1
                return
        default = next((e for e in edges if e.kind is EdgeKind.DEFAULT and e.target == target), None)
        if index == -1 and default is not None:
            self.edges[default] += 1
            return
        # The rules could not be evaluated here: the first edge to the target is the best attribution.
        fallback = next((e for e in edges if e.target == target), None)
        if fallback is not None:
            self.edges[fallback] += 1

    def _record_retry(self, state: str, error: str | None) -> None:
        for edge in self.graph.edges_from(state, EdgeKind.RETRY):
            if _error_matches(edge.errors, error):
                self.edges[edge] += 1
                return

    def _record_catch(self, state: str, error: str | None, target: str) -> None:
        for edge in self.graph.edges_from(state, EdgeKind.CATCH):
            if _error_matches(edge.errors, error) and edge.target == target:
                self.edges[edge] += 1
                return

    # --- history helpers -----------------------------------------------------------------------------
    def _enclosing_state(self, ev: dict, by_id: Mapping[int, dict]) -> str | None:
        prev = by_id.get(ev.get("previousEventId", 0))
        while prev is not None:
            if prev["type"].endswith("StateEntered"):
                return prev["stateEnteredEventDetails"]["name"]
            prev = by_id.get(prev.get("previousEventId", 0))
        return None

    def _previous_attempt_failed(self, scheduled: dict, by_id: Mapping[int, dict]) -> bool:
        prev = by_id.get(scheduled.get("previousEventId", 0))
        while prev is not None and not prev["type"].endswith("StateEntered"):
            if prev["type"] in _FAILED:
                return True
            prev = by_id.get(prev.get("previousEventId", 0))
        return False

    def _last_error(self, ev: dict, by_id: Mapping[int, dict]) -> str | None:
        prev = by_id.get(ev.get("previousEventId", 0))
        while prev is not None and not prev["type"].endswith("StateEntered"):
            if prev["type"] in _FAILED:
                return self._error_of(prev)
            prev = by_id.get(prev.get("previousEventId", 0))
        return None

    def _input_of(self, exited: dict, by_id: Mapping[int, dict]) -> Any:
        prev = by_id.get(exited.get("previousEventId", 0))
        while prev is not None:
            if prev["type"].endswith("StateEntered"):
                try:
                    return json.loads(prev["stateEnteredEventDetails"].get("input") or "null")
                except ValueError:
                    return None
            prev = by_id.get(prev.get("previousEventId", 0))
        return None

    @staticmethod
    def _error_of(ev: dict) -> str | None:
        details = next((v for k, v in ev.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        if ev["type"].endswith("TimedOut"):
            return details.get("error") or "States.Timeout"
        return details.get("error")


def _error_matches(error_equals: Iterable[str], error: str | None) -> bool:
    """ErrorEquals semantics: States.ALL matches any error; States.TaskFailed any but States.Timeout."""
    names = set(error_equals)
    if "States.ALL" in names:
        return True
    if error is None:
        return False
    if error in names:
        return True
    return "States.TaskFailed" in names and error != "States.Timeout"


def coverage_for(name: str, definition: Mapping[str, Any], histories: Iterable[list[dict]]) -> MachineCoverage:
    graph = Graph.from_definition(definition)
    cov = MachineCoverage(name=name, graph=graph, choice_rules=_collect_choices(definition), definition=definition)
    for events in histories:
        cov.add_history(events)
    return cov


def _collect_choices(machine: Mapping[str, Any]) -> dict[str, list[dict]]:
    rules: dict[str, list[dict]] = {}
    for name, spec in machine.get("States", {}).items():
        if spec.get("Type") == "Choice":
            rules[name] = list(spec.get("Choices", []))
        nested = spec.get("ItemProcessor") or spec.get("Iterator")
        if nested:
            rules.update(_collect_choices(nested))
        for branch in spec.get("Branches", []):
            rules.update(_collect_choices(branch))
    return rules


def collect(sfn: Any) -> list[MachineCoverage]:
    """Coverage of every state machine in the account, from every execution's history."""
    from harness.follow import poll_history

    result = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            definition = json.loads(sfn.describe_state_machine(stateMachineArn=sm["stateMachineArn"])["definition"])
            histories = []
            for ex_page in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm["stateMachineArn"]):
                for ex in ex_page["executions"]:
                    if ex["status"] != "RUNNING":
                        histories.append(poll_history(sfn, ex["executionArn"]))
            result.append(coverage_for(sm["name"], definition, histories))
    return result


def merge(coverages: Iterable[MachineCoverage]) -> list[MachineCoverage]:
    """One row per state machine (same name and definition), summing executions, states and edges.

    pytest-xdist gives every worker its own simulator, so each sees only its share of the executions.
    """
    merged: dict[tuple[str, str], MachineCoverage] = {}
    for cov in coverages:
        key = (cov.name, json.dumps(cov.definition, sort_keys=True))
        if key not in merged:
            merged[key] = coverage_for(cov.name, cov.definition, ())
        into = merged[key]
        into.executions += cov.executions
        into.states.update(cov.states)
        into.edges.update(cov.edges)
    return list(merged.values())


def to_wire(coverages: Iterable[MachineCoverage]) -> list[dict[str, Any]]:
    """Plain data an xdist worker can send its controller (edge counts in the graph's own edge order)."""
    return [
        {"name": c.name, "definition": c.definition, "executions": c.executions, "states": dict(c.states),
         "edges": [c.edges[e] for e in c.graph.edges]}
        for c in coverages
    ]


def from_wire(rows: Iterable[Mapping[str, Any]]) -> list[MachineCoverage]:
    covs = []
    for row in rows:
        cov = coverage_for(row["name"], row["definition"], ())
        cov.executions = row["executions"]
        cov.states.update(row["states"])
        cov.edges.update({edge: n for edge, n in zip(cov.graph.edges, row["edges"], strict=True) if n})
        covs.append(cov)
    return covs


def to_json(coverages: Iterable[MachineCoverage]) -> dict[str, Any]:
    return {
        cov.name: {
            "executions": cov.executions,
            "states": {"covered": sum(1 for s in cov.graph.states if cov.states[s]), "total": len(cov.graph.states)},
            "edges": {"covered": sum(1 for e in cov.graph.edges if cov.edges[e]), "total": len(cov.graph.edges)},
            "state_percent": round(cov.state_percent, 1),
            "edge_percent": round(cov.edge_percent, 1),
            "missed_edges": [f"{e.source} -[{e.label}]-> {e.target}" for e in cov.missed_edges],
            "missed_states": [s for s in cov.graph.states if not cov.states[s]],
        }
        for cov in coverages
    }


def total_edge_percent(coverages: Iterable[MachineCoverage]) -> float:
    covs = list(coverages)
    total = sum(len(c.graph.edges) for c in covs)
    covered = sum(1 for c in covs for e in c.graph.edges if c.edges[e])
    return 100.0 * covered / max(1, total)
