"""Failure-injection experiments: fly the pipeline under seeded random fault plans, check its invariants,
shrink every violation to a minimal plan (the way Jepsen answers "does it lose data when things fail?").

Public surface: `FaultModel`, `ExperimentPlan`, `PlannedFault` (model), `invariant` / `register`
(invariants), `Runner`, `ExperimentConfig`, `prepare_slots` (runner), `run_experiment`, `minimize`
(experiment), `shrink` (shrink), `fly_many` (load). See docs/experiments.md.
"""

from harness.experiment.experiment import ExperimentResult, Finding, minimize, run_experiment
from harness.experiment.invariants import invariant, register
from harness.experiment.load import fly_many
from harness.experiment.model import ExperimentPlan, FaultModel, PlannedFault
from harness.experiment.runner import ExperimentConfig, Runner, Verdict, prepare_slots
from harness.experiment.shrink import shrink

__all__ = [
    "ExperimentConfig",
    "ExperimentPlan",
    "ExperimentResult",
    "FaultModel",
    "Finding",
    "PlannedFault",
    "Runner",
    "Verdict",
    "fly_many",
    "invariant",
    "minimize",
    "prepare_slots",
    "register",
    "run_experiment",
    "shrink",
]
