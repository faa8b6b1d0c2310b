"""Evaluates JSONPath Choice rules (Amazon States Language) to tell which rule an execution took.

Histories record the state a Choice went to, not the rule; coverage needs the rule. First match wins,
as the spec says. A rule that cannot be evaluated here (JSONata `Condition`, an unknown operator)
makes the result None: "unknown", never a guess.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime
from typing import Any

from jsonpath_ng.ext import parse as jsonpath_parse

_MISSING = object()


class _Unknown(Exception):
    pass


def first_matching_rule(rules: list[dict], state_input: Any) -> int | None:
    """Index of the first rule matching `state_input`, -1 when none matches (Default), None if unknown."""
    try:
        for index, rule in enumerate(rules):
            if _evaluate(rule, state_input):
                return index
    except _Unknown:
        return None
    return -1


def _path(expr: str, data: Any) -> Any:
    matches = jsonpath_parse(expr).find(data)
    return matches[0].value if matches else _MISSING


def _evaluate(rule: dict, data: Any) -> bool:
    if "Condition" in rule:
        raise _Unknown
    if "And" in rule:
        return all(_evaluate(r, data) for r in rule["And"])
    if "Or" in rule:
        return any(_evaluate(r, data) for r in rule["Or"])
    if "Not" in rule:
        return not _evaluate(rule["Not"], data)
    if "Variable" not in rule:
        raise _Unknown
    value = _path(rule["Variable"], data)
    for op, expected in rule.items():
        if op in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if op.endswith("Path") and op != "Path":
            expected = _path(expected, data)
            op = op.removesuffix("Path")
            if expected is _MISSING:
                return False
        return _compare(op, value, expected)
    raise _Unknown


def _compare(op: str, value: Any, expected: Any) -> bool:
    if op == "IsPresent":
        return (value is not _MISSING) == expected
    if value is _MISSING:
        return False
    checks = {
        "IsNull": lambda: (value is None) == expected,
        "IsNumeric": lambda: (isinstance(value, int | float) and not isinstance(value, bool)) == expected,
        "IsString": lambda: isinstance(value, str) == expected,
        "IsBoolean": lambda: isinstance(value, bool) == expected,
        "IsTimestamp": lambda: (_timestamp(value) is not None) == expected,
    }
    if op in checks:
        return checks[op]()
    family = next((f for f in ("String", "Numeric", "Boolean", "Timestamp") if op.startswith(f)), None)
    if family is None:
        raise _Unknown
    relation = op.removeprefix(family)
    if family == "String":
        if not isinstance(value, str):
            return False
        if relation == "Matches":
            return fnmatch.fnmatchcase(value, expected)
    elif family == "Numeric":
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
    elif family == "Boolean":
        return isinstance(value, bool) and relation == "Equals" and value == expected
    else:
        value, expected = _timestamp(value), _timestamp(expected)
        if value is None or expected is None:
            return False
    return {
        "Equals": value == expected,
        "LessThan": value < expected,
        "GreaterThan": value > expected,
        "LessThanEquals": value <= expected,
        "GreaterThanEquals": value >= expected,
    }.get(relation, False)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
