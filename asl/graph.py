"""A state machine as a graph of states and typed edges, for path coverage and the report's drawing.

Edges are named as the States Language names the constructs: `next` (Next), `choice` (the Choice
rule at `index`), `default` (Default), `retry` (a Retrier at `index`, drawn as a self-loop), `catch`
(the Catcher at `index`) and `branch` (a Map's ItemProcessor or the Parallel branch at `index`,
entered at its StartAt). Nested states keep their Map/Parallel state as `parent`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Edge", "EdgeKind", "Graph", "State"]


class EdgeKind(StrEnum):
    NEXT = "next"
    CHOICE = "choice"
    DEFAULT = "default"
    RETRY = "retry"
    CATCH = "catch"
    BRANCH = "branch"


@dataclass(frozen=True)
class State:
    name: str
    type: str
    parent: str | None
    terminal: bool
    """End: true, or a Succeed/Fail state: an execution (or branch) may stop here."""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    index: int | None = None
    errors: tuple[str, ...] = ()
    """ErrorEquals of a retry or catch edge."""

    @property
    def label(self) -> str:
        if self.kind is EdgeKind.CHOICE:
            return f"rule {self.index}"
        if self.kind in (EdgeKind.RETRY, EdgeKind.CATCH):
            return f"{self.kind.value}: {', '.join(self.errors)}"
        if self.kind is EdgeKind.BRANCH and self.index is not None:
            return f"branch {self.index}"
        return self.kind.value


@dataclass
class Graph:
    start_at: str
    states: dict[str, State] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Graph:
        graph = cls(start_at=definition["StartAt"])
        graph._add_machine(definition, parent=None)
        return graph

    def edges_from(self, name: str, kind: EdgeKind | None = None) -> list[Edge]:
        return [e for e in self.edges if e.source == name and (kind is None or e.kind is kind)]

    def edges_to(self, name: str, kind: EdgeKind | None = None) -> list[Edge]:
        return [e for e in self.edges if e.target == name and (kind is None or e.kind is kind)]

    def states_of_type(self, type_: str) -> list[State]:
        return [s for s in self.states.values() if s.type == type_]

    def to_mermaid(self) -> str:
        """A Mermaid `flowchart`: Choice as diamonds, terminal states as stadiums, catches dotted."""
        lines = ["flowchart TD"]
        lines += list(self._mermaid_nodes(parent=None, indent="    "))
        for edge in self.edges:
            arrow = "-.->" if edge.kind in (EdgeKind.CATCH, EdgeKind.RETRY) else "-->"
            label = edge.label.replace('"', "'")
            lines.append(f'    {_node_id(edge.source)} {arrow}|"{label}"| {_node_id(edge.target)}')
        return "\n".join(lines) + "\n"

    def _mermaid_nodes(self, parent: str | None, indent: str) -> Iterator[str]:
        for state in self.states.values():
            if state.parent != parent:
                continue
            yield f"{indent}{_node_id(state.name)}{_shape(state)}"
            if state.type in ("Map", "Parallel"):
                yield f'{indent}subgraph {_node_id(state.name)}_body["{state.name} ({state.type})"]'
                yield from self._mermaid_nodes(parent=state.name, indent=indent + "    ")
                yield f"{indent}end"

    # --- building ---------------------------------------------------------------------------------

    def _add_machine(self, machine: Mapping[str, Any], parent: str | None) -> None:
        for name, spec in machine["States"].items():
            self._add_state(name, spec, parent)

    def _add_state(self, name: str, spec: Mapping[str, Any], parent: str | None) -> None:
        type_ = spec.get("Type", "?")
        terminal = bool(spec.get("End")) or type_ in ("Succeed", "Fail")
        self.states[name] = State(name, type_, parent, terminal)
        if "Next" in spec:
            self.edges.append(Edge(name, spec["Next"], EdgeKind.NEXT))
        for index, rule in enumerate(spec.get("Choices", [])):
            self.edges.append(Edge(name, rule["Next"], EdgeKind.CHOICE, index))
        if "Default" in spec:
            self.edges.append(Edge(name, spec["Default"], EdgeKind.DEFAULT))
        for index, retrier in enumerate(spec.get("Retry", [])):
            self.edges.append(Edge(name, name, EdgeKind.RETRY, index, tuple(retrier.get("ErrorEquals", ()))))
        for index, catcher in enumerate(spec.get("Catch", [])):
            errors = tuple(catcher.get("ErrorEquals", ()))
            self.edges.append(Edge(name, catcher["Next"], EdgeKind.CATCH, index, errors))
        nested = spec.get("ItemProcessor") or spec.get("Iterator")
        if nested:
            self.edges.append(Edge(name, nested["StartAt"], EdgeKind.BRANCH))
            self._add_machine(nested, parent=name)
        for index, branch in enumerate(spec.get("Branches", [])):
            self.edges.append(Edge(name, branch["StartAt"], EdgeKind.BRANCH, index))
            self._add_machine(branch, parent=name)


def _node_id(name: str) -> str:
    return "s_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _shape(state: State) -> str:
    label = state.name.replace('"', "'")
    if state.type == "Choice":
        return f'{{"{label}"}}'
    if state.type in ("Succeed", "Fail"):
        return f'(["{label}"])'
    if state.type == "Wait":
        return f'[/"{label}"/]'
    return f'["{label}"]'
