"""`${...}` references, resolved the way the Databricks CLI does.

A string that is exactly one reference takes the referenced value with its type (`${var.n}` may be a
number); a reference inside a longer string is formatted into it. `${resources.jobs.<key>.id}` is
left in place until deploy knows the job ids (`resolve_job_ids`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from harness.bundles.errors import BundleError

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_\-.\[\]]*)\}")
_JOB_ID = re.compile(r"^resources\.jobs\.([A-Za-z0-9_\-]+)\.id$")

Lookup = Callable[[str], Any]
_MISSING = object()


def walk(value: Any) -> Iterator[Any]:
    """Every leaf of a YAML tree."""
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
    else:
        yield value


def job_id_references(value: Any) -> set[str]:
    keys: set[str] = set()
    for leaf in walk(value):
        if isinstance(leaf, str):
            for name in REFERENCE.findall(leaf):
                m = _JOB_ID.match(name)
                if m:
                    keys.add(m.group(1))
    return keys


def substitute(value: Any, lookup: Lookup, where: str, *, defer: Callable[[str], bool] = lambda _: False) -> Any:
    """Replace every reference in `value`; `lookup(name)` returns the value or `_MISSING`-like None sentinel.

    `where` is "file: key" for error messages; `defer(name)` keeps a reference for a later pass.
    """
    if isinstance(value, str):
        return _substitute_str(value, lookup, where, defer)
    if isinstance(value, list):
        return [substitute(v, lookup, f"{where}[{i}]", defer=defer) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: substitute(v, lookup, f"{where}.{k}", defer=defer) for k, v in value.items()}
    return value


def _substitute_str(text: str, lookup: Lookup, where: str, defer: Callable[[str], bool]) -> Any:
    whole = REFERENCE.fullmatch(text)
    if whole and not defer(whole.group(1)):
        return _resolve(whole.group(1), lookup, where)

    def repl(m: re.Match[str]) -> str:
        if defer(m.group(1)):
            return m.group(0)
        value = _resolve(m.group(1), lookup, where)
        if isinstance(value, dict | list):
            raise BundleError(f"{where}: ${{{m.group(1)}}} is a {type(value).__name__} and cannot be part of a string")
        return str(value)

    return REFERENCE.sub(repl, text)


def _resolve(name: str, lookup: Lookup, where: str) -> Any:
    value = lookup(name)
    if value is _MISSING or value is None:
        raise BundleError(f"{where}: reference does not exist: ${{{name}}}")
    return value


def mapping_lookup(values: Mapping[str, Any]) -> Lookup:
    """A lookup over a flat mapping of dotted names (`var.x`, `bundle.target`, …)."""
    return lambda name: values.get(name, _MISSING)


def resolve_job_ids(value: Any, job_ids: Mapping[str, int], where: str) -> Any:
    """Fill `${resources.jobs.<key>.id}` once the ids are known (deploy creates referenced jobs first)."""

    def lookup(name: str) -> Any:
        m = _JOB_ID.match(name)
        if m and m.group(1) in job_ids:
            return job_ids[m.group(1)]
        return _MISSING

    return substitute(value, lookup, where, defer=lambda name: not _JOB_ID.match(name))
