"""Failure-injection experiments: fly the pipeline under seeded random fault plans, check its invariants,
shrink every violation to a minimal plan (the way Jepsen answers "does it lose data when things fail?").

Public surface: `FaultModel`, `ExperimentPlan`, `PlannedFault` (model), `invariant` / `register`
(invariants), `Runner`, `ExperimentConfig`, `prepare_slots`, `simulator_slots` (runner), `run_experiment`, `minimize`
(experiment), `shrink` (shrink), `fly_many` (load). See docs/experiments.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Name -> submodule. Resolved on first use (PEP 562): `stepbricks` imports `harness.experiment.command`
# for every command, and the runner's imports (boto3, numpy, the deployer) cost ~0.7 s it need not pay.
_EXPORTS = {
    "ExperimentConfig": "runner",
    "ExperimentPlan": "model",
    "ExperimentResult": "experiment",
    "FaultModel": "model",
    "Finding": "experiment",
    "PlannedFault": "model",
    "Runner": "runner",
    "Verdict": "runner",
    "fly_many": "load",
    "invariant": "invariants",
    "minimize": "experiment",
    "prepare_slots": "runner",
    "register": "invariants",
    "run_experiment": "experiment",
    "shrink": "shrink",
    "simulator_slots": "runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
