"""Step Functions Local `MockConfigFile` files, read into fault plans so they work unchanged.

Format (AWS Step Functions developer guide, "Configuration file for mocked service integrations"):
`StateMachines.<name>.TestCases.<case>.<state> = <mocked response name>` and
`MockedResponses.<name>.<"0" | "1-2" ...> = {"Return": ...} | {"Throw": {"Error", "Cause"}}`, where the keys are
0-based invocation numbers of that state within one execution, so numbered responses advance across
retries. An execution runs a test case when started on `<state machine ARN>#<case>`.
Past the last numbered response the state's integration is invoked for real (our choice: SFN Local's docs
do not say).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.faults.plan import FaultPlan, PlanError


def from_mock_config(source: Mapping[str, Any] | Path | str) -> FaultPlan:
    """A fault plan with one `state` fault per mocked invocation, scoped to `<state machine>#<case>`."""
    data = json.loads(Path(source).read_text()) if isinstance(source, Path | str) else source
    where = str(source) if isinstance(source, Path | str) else "MockConfigFile"
    machines = data.get("StateMachines")
    responses = data.get("MockedResponses")
    if not isinstance(machines, Mapping) or not isinstance(responses, Mapping):
        raise PlanError(f"{where}: a mock config needs the objects 'StateMachines' and 'MockedResponses'")
    plan = FaultPlan()
    for machine, spec in machines.items():
        cases = (spec or {}).get("TestCases")
        if not isinstance(cases, Mapping):
            raise PlanError(f"{where}: StateMachines.{machine} needs 'TestCases'")
        for case, states in cases.items():
            for state, response_name in states.items():
                response = responses.get(response_name)
                if response is None:
                    raise PlanError(
                        f"{where}: StateMachines.{machine}.TestCases.{case}.{state} names the mocked response "
                        f"'{response_name}', which MockedResponses does not define"
                    )
                for numbers, outcome in response.items():
                    attempts = _one_based(numbers, f"{where}: MockedResponses.{response_name}.{numbers}")
                    plan.add(
                        "state",
                        machine,
                        detail=state,
                        attempts=attempts,
                        scope=f"{machine}#{case}",
                        label=f"{response_name}[{numbers}]",
                        **_effect(outcome, f"{where}: MockedResponses.{response_name}.{numbers}"),
                    )
    return plan


def _one_based(numbers: str, where: str) -> list[int]:
    lo, _, hi = str(numbers).partition("-")
    try:
        start, end = int(lo), int(hi or lo)
    except ValueError:
        raise PlanError(f"{where}: invocation key must be like '0' or '1-2'") from None
    if start < 0 or end < start:
        raise PlanError(f"{where}: invocation range '{numbers}' is not valid")
    return [n + 1 for n in range(start, end + 1)]


def _effect(outcome: Any, where: str) -> dict[str, Any]:
    if not isinstance(outcome, Mapping) or len(outcome) != 1 or next(iter(outcome)) not in ("Return", "Throw"):
        raise PlanError(f"{where}: each mocked invocation is {{'Return': ...}} or {{'Throw': {{'Error', 'Cause'}}}}")
    if "Return" in outcome:
        return {"result": outcome["Return"]}
    throw = outcome["Throw"]
    if not isinstance(throw, Mapping) or "Error" not in throw:
        raise PlanError(f"{where}: Throw needs 'Error' (and optionally 'Cause')")
    return {"error": {"Error": throw["Error"], "Cause": throw.get("Cause", "")}}
