"""The errors of the `asl` package: one base class, each message naming the state and field at fault."""

from __future__ import annotations


class AslError(Exception):
    """Base class of every error raised by `asl`."""


class DefinitionNotFound(AslError):
    """No `<name>.asl.json` ships in `asl/definitions`."""


class PlaceholderError(AslError):
    """A `${Name}` placeholder has no value, or a value of the wrong kind for its field."""


class DefinitionInvalid(AslError):
    """A definition breaks the Amazon States Language; `problems` lists every finding."""

    def __init__(self, name: str, problems: list[object]) -> None:
        self.name = name
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"state machine {name!r} is not valid ASL ({len(problems)} problem(s)):\n{listing}")
