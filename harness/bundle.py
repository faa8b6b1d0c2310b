"""Reads the pipeline's Databricks job specs (`resources/*.yml`, Asset Bundle syntax).

Only what `harness.deploy` needs today: `resources.jobs.<key>` with `${var.<name>}` substitution.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_VAR = re.compile(r"\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}")


class BundleError(ValueError):
    """A bundle file is wrong: the message names the file, the key and the problem."""


def load_jobs(resources_dir: Path, variables: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Every `resources.jobs.<key>` of every `*.yml` under `resources_dir`, variables substituted."""
    jobs: dict[str, dict[str, Any]] = {}
    for path in sorted(resources_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for key, spec in ((doc.get("resources") or {}).get("jobs") or {}).items():
            if key in jobs:
                raise BundleError(f"{path}: resources.jobs.{key} is defined twice")
            jobs[key] = _substitute(spec, variables, f"{path}: resources.jobs.{key}")
    return jobs


def _substitute(value: Any, variables: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in variables:
                raise BundleError(f"{where}: variable '{name}' is not defined (known: {sorted(variables)})")
            return str(variables[name])

        return _VAR.sub(repl, value)
    if isinstance(value, list):
        return [_substitute(v, variables, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _substitute(v, variables, f"{where}.{k}") for k, v in value.items()}
    return value
