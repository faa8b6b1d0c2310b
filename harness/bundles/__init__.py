"""Databricks Asset Bundles, read and deployed as the Databricks CLI does (`databricks.yml`).

`load_bundle` reads and merges one target; `validate` checks it; `open_target` → `deploy` / `run` /
`destroy` act on the target's workspace; `promote` is the QA → approval → prod flow of seed 004.
"""

from harness.bundles.approval import approve, find_approval
from harness.bundles.errors import BundleError
from harness.bundles.loader import load_bundle
from harness.bundles.operations import DeployResult, RunResult, deploy, destroy, open_target, run
from harness.bundles.promotion import PromotionResult, promote
from harness.bundles.validate import validate

__all__ = [
    "BundleError",
    "DeployResult",
    "PromotionResult",
    "RunResult",
    "approve",
    "deploy",
    "destroy",
    "find_approval",
    "load_bundle",
    "open_target",
    "promote",
    "run",
    "validate",
]
