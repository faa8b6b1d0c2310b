"""What an Express state machine may not contain, in AWS's words (moto created such machines and then ran
them as if they were Standard).

Express workflows support neither `.waitForTaskToken` nor `.sync` integrations nor activities (developer
guide, "Standard and Express workflow types"). The diagnostics, recorded against AWS in LocalStack's
test_sfn_api_express.snapshot.json and test_sfn_api_validation.snapshot.json (note AWS's two spaces before
"at" after '.waitForTaskToken' service integration):

    SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration  at /States/Publish/Resource
    SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/StartExecution/Resource
    SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/ActivityTask/Resource
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sim.aws.moto_seams.sfn_definition import Diagnostic

__all__ = ["express_diagnostics"]


def _resource_diagnostic(resource: str, where: str) -> Diagnostic | None:
    if resource.endswith(".waitForTaskToken"):
        # The value AWS reports carries a trailing space in the message, hence two before "at".
        return Diagnostic("SCHEMA_VALIDATION_FAILED",
                          "Express state machine does not support '.waitForTaskToken' service integration ", where)
    if resource.endswith(".sync") or ".sync:" in resource:
        return Diagnostic("SCHEMA_VALIDATION_FAILED",
                          "Express state machine does not support '.sync' service integration", where)
    if resource.startswith("arn:") and resource.split(":")[5:6] == ["activity"]:
        return Diagnostic("SCHEMA_VALIDATION_FAILED", "Express state machine does not support Activity ARN", where)
    return None


def _walk(machine: Any, at: str) -> Iterator[Diagnostic]:
    states = machine.get("States") if isinstance(machine, dict) else None
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        where = f"{at}/States/{name}"
        resource = state.get("Resource")
        if state.get("Type") == "Task" and isinstance(resource, str):
            found = _resource_diagnostic(resource, f"{where}/Resource")
            if found is not None:
                yield found
        for i, branch in enumerate(state.get("Branches") or []):
            yield from _walk(branch, f"{where}/Branches[{i}]")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _walk(state[key], f"{where}/{key}")


def express_diagnostics(definition: str) -> list[Diagnostic]:
    """Why AWS refuses `definition` for an Express state machine ([] when it does not, or is not JSON)."""
    try:
        return list(_walk(json.loads(definition), ""))
    except ValueError:
        return []
