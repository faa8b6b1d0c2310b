"""What an execution sees of itself: the context object (`$$`, `$states.context`) as AWS fills it.

Registered with `core.register` at import.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ORIGINAL_ENVIRONMENT = ExecutionWorker._get_evaluation_environment
# The order AWS lists the context object's Execution fields in (recorded `$$` outputs).
_EXECUTION_FIELDS = ("Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount")


def _evaluation_environment(self: ExecutionWorker) -> Any:
    """Wraps `ExecutionWorker._get_evaluation_environment`.

    Restores: the context object's `Execution.RedriveCount` (0 on a first run, as recorded on AWS:
    `{"Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount"}`); moto left it out, so
    `$$.Execution.RedriveCount` failed the state.
    """
    env = _ORIGINAL_ENVIRONMENT(self)
    data = env.states.context_object.context_object_data
    execution = dict(data["Execution"])
    execution.setdefault("RedriveCount", int(getattr(self, "redrive_count", 0) or 0))
    ordered = {key: execution[key] for key in _EXECUTION_FIELDS if key in execution}
    ordered.update({key: value for key, value in execution.items() if key not in ordered})
    data["Execution"] = ordered
    return env


register(
    [(ExecutionWorker, "_get_evaluation_environment", _evaluation_environment)],
    [Seam(ExecutionWorker, "_get_evaluation_environment", ("self",), _evaluation_environment.__doc__ or "")],
)
