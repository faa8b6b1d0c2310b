"""Fault plans: faults as data (target + which attempts + effect), applied by every simulated service.

Public surface: `FaultPlan`, `Fault`, `Target`, `Effect`, `build_fault`, `load_plan`, `from_mock_config`,
`active`, `activate`. Components ask `active().take(kind, name, ...)` at the point where the real service
could fail; the fake Databricks workspace asks the plan its simulator's context holds (`workspace.faults`).
"""

from sim.faults.mock_config import MockConfigError, from_mock_config
from sim.faults.plan import (
    AppliedFault,
    Effect,
    Fault,
    FaultPlan,
    PlanError,
    Target,
    activate,
    active,
    build_fault,
    load_plan,
)

__all__ = [
    "AppliedFault",
    "Effect",
    "Fault",
    "FaultPlan",
    "MockConfigError",
    "PlanError",
    "Target",
    "activate",
    "active",
    "build_fault",
    "from_mock_config",
    "load_plan",
]
