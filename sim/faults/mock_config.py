"""Step Functions Local `MockConfigFile` files, read into fault plans so they work unchanged.

Format (AWS Step Functions developer guide, "Configuration file for mocked service integrations"):
`StateMachines.<name>.TestCases.<case>.<state> = <mocked response name>` and
`MockedResponses.<name>.<"0" | "1-2" ...> = {"Return": ...} | {"Throw": {"Error", "Cause"}}`, where the keys are
0-based invocation numbers of that state within one execution, so numbered responses advance across
retries. An execution runs a test case when started on `<state machine ARN>#<case>`.
Past the last numbered response the state's integration is invoked for real (our choice: SFN Local's docs
do not say).

A file that cannot be used is refused with `MockConfigError`, whose message is `<file>:<line>: <reason>`:
the line of the JSON syntax error, or of the key whose value is wrong (an edit is found where it was made).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from sim.faults.plan import FaultPlan, PlanError

__all__ = ["MockConfigError", "from_mock_config", "mock_config_from_text"]

Key = tuple[str, ...]


class MockConfigError(PlanError):
    """A MockConfigFile that cannot be used: where (`file`, `line`, 1-based; 0 when unknown) and why."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")
        self.file, self.line, self.reason = file, line, reason


def from_mock_config(source: Mapping[str, Any] | Path | str) -> FaultPlan:
    """A fault plan with one `state` fault per mocked invocation, scoped to `<state machine>#<case>`."""
    if isinstance(source, Path | str):
        return mock_config_from_text(Path(source).read_text(encoding="utf-8"), str(source))
    return _plan(source, "MockConfigFile", {})


def mock_config_from_text(text: str, file: str) -> FaultPlan:
    """The plan of a MockConfigFile's text; `file` names it in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MockConfigError(file, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    return _plan(data, file, _key_lines(text))


def _plan(data: Any, file: str, lines: Mapping[Key, int]) -> FaultPlan:
    def refuse(path: Key, reason: str) -> MockConfigError:
        while path and path not in lines:
            path = path[:-1]  # a key that is missing: the line of the object that lacks it
        return MockConfigError(file, lines.get(path, 1 if lines else 0), reason)

    if not isinstance(data, Mapping):
        raise refuse((), "a mock config is a JSON object with 'StateMachines' and 'MockedResponses'")
    machines, responses = data.get("StateMachines"), data.get("MockedResponses")
    if not isinstance(machines, Mapping) or not isinstance(responses, Mapping):
        raise refuse((), "a mock config needs the objects 'StateMachines' and 'MockedResponses'")
    plan = FaultPlan()
    for machine, spec in machines.items():
        at: Key = ("StateMachines", machine)
        cases = spec.get("TestCases") if isinstance(spec, Mapping) else None
        if not isinstance(cases, Mapping):
            raise refuse(at, f"StateMachines.{machine} needs the object 'TestCases'")
        for case, states in cases.items():
            if not isinstance(states, Mapping):
                raise refuse((*at, "TestCases", case),
                             f"StateMachines.{machine}.TestCases.{case} maps state names to mocked response names")
            for state, response_name in states.items():
                where = (*at, "TestCases", case, state)
                label = f"StateMachines.{machine}.TestCases.{case}.{state}"
                if not isinstance(response_name, str):
                    raise refuse(where, f"{label} must name a mocked response (a string)")
                response = responses.get(response_name)
                if response is None:
                    raise refuse(where, f"{label} names the mocked response '{response_name}', which MockedResponses "
                                        "does not define")
                if not isinstance(response, Mapping):
                    raise refuse(("MockedResponses", response_name),
                                 f"MockedResponses.{response_name} maps invocation numbers to responses")
                for numbers, outcome in response.items():
                    entry = ("MockedResponses", response_name, numbers)
                    try:
                        attempts = _one_based(numbers)
                        effect = _effect(outcome)
                    except ValueError as exc:
                        raise refuse(entry, f"MockedResponses.{response_name}.{numbers}: {exc}") from None
                    plan.add("state", machine, detail=state, attempts=attempts, scope=f"{machine}#{case}",
                             label=f"{response_name}[{numbers}]", **effect)
    return plan


def _one_based(numbers: str) -> list[int]:
    lo, _, hi = str(numbers).partition("-")
    try:
        start, end = int(lo), int(hi or lo)
    except ValueError:
        raise ValueError("invocation key must be like '0' or '1-2'") from None
    if start < 0 or end < start:
        raise ValueError(f"invocation range '{numbers}' is not valid")
    return [n + 1 for n in range(start, end + 1)]


def _effect(outcome: Any) -> dict[str, Any]:
    if not isinstance(outcome, Mapping) or len(outcome) != 1 or next(iter(outcome)) not in ("Return", "Throw"):
        raise ValueError("each mocked invocation is {'Return': ...} or {'Throw': {'Error', 'Cause'}}")
    if "Return" in outcome:
        return {"result": outcome["Return"]}
    throw = outcome["Throw"]
    if not isinstance(throw, Mapping) or "Error" not in throw:
        raise ValueError("Throw needs 'Error' (and optionally 'Cause')")
    return {"error": {"Error": throw["Error"], "Cause": throw.get("Cause", "")}}


# -- where each key is -----------------------------------------------------------------------------------------

_WHITESPACE = " \t\n\r"


def _key_lines(text: str) -> dict[Key, int]:
    """The 1-based line of every object key of valid JSON `text`, by its path of keys (array elements are
    passed over: a MockConfigFile's keys are all in objects)."""
    lines: dict[Key, int] = {}
    decoder = json.JSONDecoder()

    def skip(at: int) -> int:
        while at < len(text) and text[at] in _WHITESPACE:
            at += 1
        return at

    def value(at: int, path: Key) -> int:
        at = skip(at)
        if text[at] == "{":
            at = skip(at + 1)
            if text[at] == "}":
                return at + 1
            while True:
                key, end = scanstring(text, at + 1)
                lines[(*path, key)] = text.count("\n", 0, at) + 1
                at = value(skip(end) + 1, (*path, key))  # past the ':'
                at = skip(at)
                if text[at] == "}":
                    return at + 1
                at = skip(at + 1)  # past the ','
        if text[at] == "[":
            at = skip(at + 1)
            if text[at] == "]":
                return at + 1
            while True:
                at = skip(value(at, path))
                if text[at] == "]":
                    return at + 1
                at += 1
        _, end = decoder.raw_decode(text, at)
        return end

    value(0, ())
    return lines
