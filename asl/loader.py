"""Load the shipped state machine definitions and fill in their `${Name}` placeholders.

Definitions are kept as valid JSON with placeholders inside string values, so they can be linted as
they are and so every placeholder has a location (state and field) that an error can name. A value
that is exactly one placeholder in a field the States Language types as a number (`Seconds`,
`TimeoutSeconds`, `MaxAttempts`...) becomes a number; everywhere else substitution is textual, as
CloudFormation's `DefinitionSubstitutions` does. A placeholder without a value is an error, and no
`${...}` survives into the rendered text, so a half-filled definition never reaches AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asl.errors import DefinitionNotFound, PlaceholderError

__all__ = [
    "DEFINITIONS_DIR",
    "Location",
    "load",
    "names",
    "placeholders",
    "render",
    "substitute",
]

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
_SUFFIX = ".asl.json"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Fields the States Language types as numbers (spec: Wait, Task, Retrier, Map).
NUMERIC_FIELDS = frozenset(
    {
        "Seconds",
        "TimeoutSeconds",
        "HeartbeatSeconds",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "MaxConcurrency",
        "ToleratedFailurePercentage",
        "ToleratedFailureCount",
        "MaxItems",
    }
)


@dataclass(frozen=True)
class Location:
    """Where a value sits: the innermost state (None at the top level) and the field path inside it."""

    state: str | None
    field: str

    def __str__(self) -> str:
        if self.state is None:
            return f"top-level field {self.field!r}"
        return f"state {self.state!r}, field {self.field!r}"


def names() -> list[str]:
    """The shipped definitions, by name (file name without `.asl.json`)."""
    return sorted(p.name[: -len(_SUFFIX)] for p in DEFINITIONS_DIR.glob(f"*{_SUFFIX}"))


def load(name: str) -> dict[str, Any]:
    """The definition `name`, placeholders untouched."""
    path = DEFINITIONS_DIR / f"{name}{_SUFFIX}"
    if not path.is_file():
        raise DefinitionNotFound(f"no state machine named {name!r} in {DEFINITIONS_DIR}; shipped: {names()}")
    return json.loads(path.read_text(encoding="utf-8"))


def placeholders(definition: Mapping[str, Any]) -> dict[str, list[Location]]:
    """Every placeholder of `definition`, with each place it is used."""
    found: dict[str, list[Location]] = {}
    for location, text in _strings(definition):
        for match in _PLACEHOLDER.finditer(text):
            found.setdefault(match.group(1), []).append(location)
    return found


def substitute(
    definition: Mapping[str, Any], values: Mapping[str, object], *, name: str = "definition"
) -> dict[str, Any]:
    """A copy of `definition` with every placeholder replaced; extra values are ignored.

    Raises PlaceholderError naming each missing placeholder with the state and field where it occurs.
    """
    missing = {p: locs for p, locs in placeholders(definition).items() if p not in values}
    if missing:
        lines = [f"${{{p}}} at {', '.join(str(loc) for loc in locs)}" for p, locs in sorted(missing.items())]
        raise PlaceholderError(
            f"state machine {name!r}: no value for {len(missing)} placeholder(s): "
            + "; ".join(lines)
            + ". Pass them in the substitutions."
        )
    result = _replace(definition, values, [], None, name)
    leftovers = placeholders(result)
    if leftovers:
        where = "; ".join(f"${{{p}}} at {locs[0]}" for p, locs in sorted(leftovers.items()))
        raise PlaceholderError(f"state machine {name!r}: substituted values contain placeholders: {where}")
    return result


def render(name: str, values: Mapping[str, object]) -> str:
    """The definition `name` substituted and validated, as the JSON text CreateStateMachine takes."""
    from asl.validate import check

    definition = substitute(load(name), values, name=name)
    check(definition, name=name)
    return json.dumps(definition, indent=2)


# --- tree walking ------------------------------------------------------------------------------------


def _is_machine(node: object) -> bool:
    """A state machine or a nested one (Map ItemProcessor/Iterator, Parallel branch)."""
    return isinstance(node, dict) and isinstance(node.get("States"), dict) and "StartAt" in node


def _field(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _children(node: Any, path: list[str | int], state: str | None) -> Iterator[tuple[Any, list, str | None]]:
    """(child, path inside the innermost state, innermost state) for each child of `node`."""
    if isinstance(node, dict):
        machine = _is_machine(node)
        for key, child in node.items():
            if machine and key == "States":
                for state_name, state_def in child.items():
                    yield state_def, [], state_name
            else:
                yield child, [*path, key], state
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield child, [*path, index], state


def _strings(node: Any, path: list | None = None, state: str | None = None) -> Iterator[tuple[Location, str]]:
    path = path or []
    if isinstance(node, str):
        yield Location(state, _field(path)), node
        return
    for child, child_path, child_state in _children(node, path, state):
        yield from _strings(child, child_path, child_state)


def _replace(node: Any, values: Mapping[str, object], path: list, state: str | None, name: str) -> Any:
    if isinstance(node, str):
        return _replace_text(node, values, path, state, name)
    if isinstance(node, dict):
        machine = _is_machine(node)
        out: dict[str, Any] = {}
        for key, child in node.items():
            if machine and key == "States":
                out[key] = {s: _replace(d, values, [], s, name) for s, d in child.items()}
            else:
                out[key] = _replace(child, values, [*path, key], state, name)
        return out
    if isinstance(node, list):
        return [_replace(c, values, p, s, name) for c, p, s in _children(node, path, state)]
    return node


def _replace_text(text: str, values: Mapping[str, object], path: list, state: str | None, name: str) -> Any:
    whole = _PLACEHOLDER.fullmatch(text)
    if whole:
        value = values[whole.group(1)]
        field = path[-1] if path else None
        if field in NUMERIC_FIELDS:
            return _number(whole.group(1), value, Location(state, _field(path)), name)
        return value if isinstance(value, str | int | float | bool) else str(value)
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def _number(placeholder: str, value: object, location: Location, name: str) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        number = float(str(value))
    except ValueError:
        raise PlaceholderError(
            f"state machine {name!r}: ${{{placeholder}}} = {value!r} at {location} must be a number"
        ) from None
    return int(number) if number.is_integer() else number
