"""`load_jobs(resources_dir, variables)`: the job specs as `harness.deploy` wants them.

`harness.deploy` uploads the three notebooks itself to `/Shared/stepbricks/<name>` and fills
`cluster_id` / `bucket_prefix`; the bundle's other variables take their declared defaults from
`databricks.yml`. A task path relative to its YAML file (bundle style, `../etl/notebooks/etl.py`)
becomes `<notebook_dir>/<file stem>`, where `harness.deploy` put that notebook.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.bundles.errors import BundleError
from harness.bundles.interpolate import mapping_lookup, substitute

LEGACY_NOTEBOOK_DIR = "/Shared/stepbricks"


def load_jobs(resources_dir: Path, variables: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Every `resources.jobs.<key>` of every `*.yml` under `resources_dir`, variables substituted."""
    values = {**_declared_defaults(resources_dir.parent / "databricks.yml"), **variables}
    notebook_dir = str(values.get("notebook_dir", LEGACY_NOTEBOOK_DIR))
    lookup = mapping_lookup({f"var.{k}": v for k, v in values.items()})
    jobs: dict[str, dict[str, Any]] = {}
    for path in sorted(resources_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for key, spec in ((doc.get("resources") or {}).get("jobs") or {}).items():
            if key in jobs:
                raise BundleError(f"{path}: resources.jobs.{key} is defined twice")
            spec = substitute(spec, lookup, f"{path}: resources.jobs.{key}", defer=lambda n: not n.startswith("var."))
            jobs[key] = _legacy_paths(spec, notebook_dir)
    return jobs


def _declared_defaults(bundle_file: Path) -> dict[str, Any]:
    if not bundle_file.exists():
        return {}
    declared = (yaml.safe_load(bundle_file.read_text()) or {}).get("variables") or {}
    return {k: v["default"] for k, v in declared.items() if isinstance(v, dict) and isinstance(v.get("default"), str)
            and "${" not in v["default"]}  # fmt: skip


def _legacy_paths(spec: dict[str, Any], notebook_dir: str) -> dict[str, Any]:
    for task in spec.get("tasks") or []:
        nb = task.get("notebook_task") or {}
        path = nb.get("notebook_path")
        if isinstance(path, str) and not path.startswith("/"):
            nb["notebook_path"] = f"{notebook_dir}/{Path(path).stem}"
    return spec
