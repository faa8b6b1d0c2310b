"""Definitions AWS refuses, refused as AWS refuses them (CreateStateMachine, UpdateStateMachine,
ValidateStateMachineDefinition).

AWS reports `InvalidDefinition` with "Invalid State Machine Definition: '<CODE>: <message> at
<location>, ...'" and ValidateStateMachineDefinition lists the same diagnostics. moto answered with
an empty error code, a Python repr as message, and accepted dangling `Next` targets, unreachable
states, Retry/Catch on states that have none, and JSONata that does not parse. `diagnose` is pure
(no moto); `sfn_api` hooks it into the API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)

from sim.aws.http_task import forbidden_headers, is_http_error_name
from sim.aws.moto_seams.sfn_jsonata import EvaluationError, compile_check

__all__ = ["Diagnostic", "diagnose", "diagnose_state", "invalid_definition_message"]

# States that accept Retry / Catch (Amazon States Language: Task, Parallel, Map only).
_ERROR_HANDLING_STATES = {"Task", "Parallel", "Map"}
_STATE_TYPES = {"Task", "Parallel", "Map", "Pass", "Wait", "Choice", "Succeed", "Fail"}
_TERMINAL_TYPES = {"Succeed", "Fail"}
_JSONATA = re.compile(r"^\{%(.*)%\}$", re.DOTALL)
_HTTP_TASK = re.compile(r"^arn:[\w-]+:states:::http:invoke$")


@dataclass(frozen=True)
class Diagnostic:
    """One ValidateStateMachineDefinition diagnostic (severity ERROR)."""

    code: str
    message: str
    location: str | None = None

    def as_api(self) -> dict[str, str]:
        found = {"severity": "ERROR", "code": self.code, "message": self.message}
        if self.location is not None:
            found["location"] = self.location
        return found

    def __str__(self) -> str:
        located = self.location is not None and not self.message.endswith(self.location)
        return f"{self.code}: {self.message}" + (f" at {self.location}" if located else "")


def invalid_definition_message(diagnostics: list[Diagnostic]) -> str:
    """AWS's InvalidDefinition message for these diagnostics."""
    return "Invalid State Machine Definition: '" + ", ".join(str(d) for d in diagnostics) + "'"


def diagnose(definition: str, parse: Callable[[str], None] | None = None) -> list[Diagnostic]:
    """Every reason AWS would refuse `definition`; `parse` (moto's parser) adds what its grammar refuses."""
    if not definition.strip():
        # test_sfn_api_validation.snapshot.json (EMPTY_STRING)
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object")]
    try:
        document = json.loads(definition)
    except ValueError as exc:
        return [_json_diagnostic(definition, exc)]
    if not isinstance(document, dict):
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "The state machine definition must be a JSON object", "/")]
    found = list(_machine(document, "", document.get("QueryLanguage", "JSONPath")))
    if not found and parse is not None:
        try:
            parse(definition)
        except Exception as exc:  # moto's grammar: unsupported fields and shapes
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", _parser_message(exc)))
    return found


def diagnose_state(state: dict[str, Any], name: str, language: str = "JSONPath") -> list[Diagnostic]:
    """Every reason AWS would refuse one state on its own (TestState without `stateName`); AWS locates them
    as if the state were `/States/<name>` (test_state_mock_validation.snapshot.json names it `StateName`)."""
    return list(_state(name, state, f"/States/{name}", state.get("QueryLanguage", language)))


def _json_diagnostic(text: str, exc: ValueError) -> Diagnostic:
    """AWS's diagnostic for a definition that is not JSON, in the words of the Jackson parser it uses where
    the case is recorded (test_sfn_api_validation.snapshot.json, NOT_A_DEF): "Unrecognized token 'not': was
    expecting (...)\n at [Source: (String)"not a definition"; line: 1, column: 4]"; Python's words otherwise."""
    stripped = text.lstrip()
    word = re.match(r"[A-Za-z_$][A-Za-z0-9_$.\-]*", stripped)
    if word and "\n" not in text:
        column = len(text) - len(stripped) + len(word.group(0)) + 1
        source = f'[Source: (String)"{text}"; line: 1, column: {column}]'
        return Diagnostic("INVALID_JSON_DESCRIPTION",
                          f"Unrecognized token '{word.group(0)}': was expecting (JSON String, Number, Array, Object "
                          f"or token 'null', 'true' or 'false')\n at {source}", source)
    return Diagnostic("INVALID_JSON_DESCRIPTION", str(exc))


def _parser_message(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return re.sub(r"^(Error=\w+ Args=\[)|(\] in definition .*$)", "", text, flags=re.DOTALL).strip("'\"")


def _machine(document: dict[str, Any], at: str, language: str) -> Iterator[Diagnostic]:
    """Diagnostics of one States scope (the machine, a Parallel branch or a Map's ItemProcessor)."""
    states = document.get("States")
    start = document.get("StartAt")
    missing = [f for f, v in (("States", states), ("StartAt", start)) if v is None]
    if missing:
        # test_sfn_api_validation / test_sfn_api.snapshot.json: "These fields are required: [States, StartAt] at /"
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", f"These fields are required: [{', '.join(missing)}]", at or "/")
        return
    if not isinstance(states, dict) or not states:
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", "The field 'States' is required and must be a non-empty object",
                         at or "/")
        return
    if not isinstance(start, str):
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", "The field 'StartAt' is required", at or "/")
        return
    if start not in states:
        yield Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start}", f"{at}/StartAt")
    edges: dict[str, list[str]] = {}
    for name, state in states.items():
        where = f"{at}/States/{name}"
        if not isinstance(state, dict):
            yield Diagnostic("SCHEMA_VALIDATION_FAILED", "A state must be a JSON object", where)
            continue
        state_language = state.get("QueryLanguage", language)
        if language == "JSONata" and state_language == "JSONPath":
            # test_sfn_api_validation.snapshot.json, INVALID_DOWNGRADE_QUERY_LANGUAGE
            yield Diagnostic("SCHEMA_VALIDATION_FAILED",
                             "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", where)
        yield from _state(name, state, where, state_language)
        targets = list(_targets(state, where))
        edges[name] = [t for t, _ in targets]
        for target, location in targets:
            if target not in states:
                yield Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {target}", location)
    if any(isinstance(s, dict) and s.get("Type") not in _STATE_TYPES for s in states.values()):
        return  # a state of no known type has no known transitions: AWS reports the type alone (as recorded)
    reachable = _reachable(start, edges)
    terminal = [n for n, s in states.items() if isinstance(s, dict)
                and (s.get("End") is True or s.get("Type") in _TERMINAL_TYPES)]
    if not terminal:
        yield Diagnostic("MISSING_END_STATE", "Workflow has no terminal state")
        return  # AWS reports no unreachable states once the workflow cannot end
    for name in states:
        if name not in reachable:
            yield Diagnostic("MISSING_TRANSITION_TARGET", f'State "{name}" is not reachable.', f"{at}/States/{name}")


def _state(name: str, state: dict[str, Any], where: str, language: str) -> Iterator[Diagnostic]:
    kind = state.get("Type")
    if kind not in _STATE_TYPES:
        # test_test_state_machine_scenarios.snapshot.json: test_state_name_invalid_state_definition
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", "The field 'Type' should have one of these values: "
                         "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]", f"{where}/Type")
        return
    for field in ("Retry", "Catch"):
        if field in state and kind not in _ERROR_HANDLING_STATES:
            yield Diagnostic("SCHEMA_VALIDATION_FAILED", f"Field '{field}' is not supported by state type '{kind}'",
                             f"{where}/{field}")
    if kind not in _TERMINAL_TYPES and kind != "Choice" and ("Next" in state) == (state.get("End") is True):
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", "A state must have exactly one of 'Next' or 'End': true", where)
    for index, catcher in enumerate(state.get("Catch") or []):
        yield from _error_names(catcher, f"{where}/Catch[{index}]")
    for index, retrier in enumerate(state.get("Retry") or []):
        yield from _error_names(retrier, f"{where}/Retry[{index}]")
    if language == "JSONata":
        yield from _jsonata_fields(state, where)
    if kind == "Task" and _HTTP_TASK.match(str(state.get("Resource", ""))):
        yield from _http_task(state, where, language)
    if kind == "Parallel" and state.get("Branches") == []:
        # test_state_mock_validation.snapshot.json: test_parallel_state_empty_branches
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", "Value cannot be empty", f"{where}/Branches")
    for index, branch in enumerate(state.get("Branches") or []):
        if isinstance(branch, dict):
            yield from _machine(branch, f"{where}/Branches[{index}]", state.get("QueryLanguage", language))
    processor = state.get("ItemProcessor") or state.get("Iterator")
    if isinstance(processor, dict):
        key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        yield from _machine(processor, f"{where}/{key}", state.get("QueryLanguage", language))


def _error_names(handler: Any, where: str) -> Iterator[Diagnostic]:
    for index, name in enumerate((handler or {}).get("ErrorEquals") or []):
        if isinstance(name, str) and name.startswith("States.") and not is_http_error_name(name):
            try:
                StatesErrorNameType.from_name(name)
            except ValueError:
                yield Diagnostic("SCHEMA_VALIDATION_FAILED", f"Value is not a valid error name: {name}",
                                 f"{where}/ErrorEquals[{index}]")


def _given(fields: dict[str, Any], name: str) -> bool:
    return name in fields or f"{name}.$" in fields


def _http_task(state: dict[str, Any], where: str, language: str) -> Iterator[Diagnostic]:
    """An HTTP Task needs `ApiEndpoint`, `Method` and a connection (`Authentication` or `InvocationConfig`
    with `ConnectionArn`), and may not set the headers AWS forbids; AWS refuses the definition otherwise."""
    key = "Arguments" if language == "JSONata" else "Parameters"
    fields = state.get(key)
    if isinstance(fields, str):
        return  # one JSONata expression for all arguments: checked when it is evaluated
    if not isinstance(fields, dict):
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", f"The field '{key}' is required but was missing", where)
        return
    at = f"{where}/{key}"
    for name in ("ApiEndpoint", "Method"):
        if not _given(fields, name):
            yield Diagnostic("SCHEMA_VALIDATION_FAILED", f"The field '{name}' is required but was missing", at)
    holders = [h for h in ("InvocationConfig", "Authentication") if _given(fields, h)]
    if not holders:
        yield Diagnostic("SCHEMA_VALIDATION_FAILED", "The field 'ConnectionArn' is required but was missing", at)
    for holder in holders:
        config = fields.get(holder)
        if isinstance(config, dict) and not _given(config, "ConnectionArn"):
            yield Diagnostic("SCHEMA_VALIDATION_FAILED", "The field 'ConnectionArn' is required but was missing",
                             f"{at}/{holder}")
    bad = forbidden_headers(fields.get("Headers"))
    if bad:
        yield Diagnostic("SCHEMA_VALIDATION_FAILED",
                         f"The 'Headers' field contains unsupported values: [{', '.join(bad)}]", at)


def _jsonata_fields(value: Any, where: str) -> Iterator[Diagnostic]:
    """Every `{% %}` string under a JSONata state must parse (AWS checks them at creation)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("Branches", "ItemProcessor", "Iterator"):
                continue
            yield from _jsonata_fields(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _jsonata_fields(item, f"{where}[{index}]")
    elif isinstance(value, str):
        match = _JSONATA.match(value)
        if match:
            expression = match.group(1).strip()
            try:
                compile_check(expression)
            except EvaluationError as exc:
                yield Diagnostic("SCHEMA_VALIDATION_FAILED",
                                 f"The JSONata expression '{expression}' is not valid. {exc}", where)


def _targets(state: dict[str, Any], where: str) -> Iterator[tuple[str, str]]:
    if isinstance(state.get("Next"), str):
        yield state["Next"], f"{where}/Next"
    if isinstance(state.get("Default"), str):
        yield state["Default"], f"{where}/Default"
    for index, choice in enumerate(state.get("Choices") or []):
        if isinstance(choice, dict) and isinstance(choice.get("Next"), str):
            yield choice["Next"], f"{where}/Choices[{index}]/Next"
    for index, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            yield catcher["Next"], f"{where}/Catch[{index}]/Next"


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(edges.get(name, []))
    return seen
