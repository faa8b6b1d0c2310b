"""Fault plans inside the Step Functions interpreter: `state` faults and Step Functions Local test cases.

A `state` fault (`plan.add("state", "<state machine>", detail="<state>", result=... | error=...)`) replaces
that Task state's integration with a mocked result or error, exactly as Step Functions Local's
MockConfigFile does: the integration is not called, the mocked value goes through ResultSelector /
ResultPath (or Retry / Catch) as a real one would. Occurrences are counted per execution, so numbered
responses advance across retries.

`StartExecution` on `<state machine ARN>#<TestCase>` (Step Functions Local's convention) runs the base
state machine with the faults scoped `<state machine name>#<TestCase>`; `sim.faults.from_mock_config`
turns a MockConfigFile into exactly those faults.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.exceptions import InvalidName
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponse,
    MockedResponseReturn,
    MockedResponseThrow,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from sim import context as sim_context
from sim import faults
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_time import execution_arn_of
from sim.faults import mock_config_watch

__all__ = ["test_case_of"]

_original_start = StepFunctionsParserBackend.start_execution
_original_is_mocked = Environment.is_mocked_mode
_original_mocked_response = Environment.get_current_mocked_response


class _TestCases:
    """Execution ARN -> the `<state machine name>#<TestCase>` it was started on, for one simulator."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_execution: dict[str, str] = {}


def _test_cases() -> _TestCases:
    return sim_context.current().memo("sfn-test-cases", _TestCases)


def test_case_of(execution_arn: str) -> str | None:
    """The `<state machine name>#<TestCase>` an execution was started on, if any."""
    cases = _test_cases()
    with cases.lock:
        return cases.by_execution.get(execution_arn)


def _start_execution(self: StepFunctionsParserBackend, state_machine_arn: str, name: Any = None,
                     execution_input: Any = None, trace_header: Any = None) -> Any:
    """Wraps `StepFunctionsParserBackend.start_execution`.

    Restores: Step Functions Local's `<state machine ARN>#<TestCase>`: the base state machine runs, with
    that test case's mocked responses (`state` faults scoped `<name>#<TestCase>`). An unknown test case is
    `InvalidName`, with Step Functions Local's message (and, when the watched MockConfigFile's last edit was
    refused, where and why). A watched MockConfigFile is re-read first if it changed."""
    watched = mock_config_watch.watcher()
    if watched is not None:
        watched.refresh()  # an edited MockConfigFile is in force from this execution on
    base, _, case = state_machine_arn.partition("#")
    if not case:
        return _original_start(self, state_machine_arn, name, execution_input, trace_header)
    machine = self.describe_state_machine(base)
    scope = f"{machine.name}#{case}"
    if scope not in faults.active().scopes():
        problem = watched.problem if watched is not None else None
        raise InvalidName(
            f"Invalid mock test case name '{case}' for state machine '{machine.name}'."
            "Either the test case is not defined or the mock configuration file could not be loaded. "
            "See logs for details."
            + (f" The last edit of the mock configuration file was refused: {problem}" if problem else "")
        )
    execution_arn = f"arn:{self.partition}:states:{self.region_name}:{self.account_id}:execution:{machine.name}:{name}"
    cases = _test_cases()
    with cases.lock:
        cases.by_execution[execution_arn] = scope
    return _original_start(self, base, name, execution_input, trace_header)


def _mocked_response(env: Environment) -> MockedResponse | None:
    """The fault plan's answer for the Task state `env` is about to run (once per attempt; cached)."""
    context = env.states.context_object.context_object_data
    state = context.get("State") or {}
    marker = (state.get("Name"), state.get("EnteredTime"), state.get("RetryCount"))
    cached = getattr(env, "_stepbricks_mock", None)
    if cached is not None and cached[0] == marker:
        return cached[1]
    arn = execution_arn_of(env)
    machine = str((context.get("StateMachine") or {}).get("Name", ""))
    effect = faults.active().take("state", machine, env.next_state_name, scope=test_case_of(arn), instance=arn)
    response: MockedResponse | None = None
    if effect is not None and "error" in effect:
        error = effect["error"]
        if isinstance(error, dict):
            response = MockedResponseThrow(0, 0, str(error.get("Error")), str(error.get("Cause", "")))
        else:
            response = MockedResponseThrow(0, 0, str(error), "")
    elif effect is not None and "result" in effect:
        response = MockedResponseReturn(0, 0, effect["result"])
    env._stepbricks_mock = (marker, response)  # type: ignore[attr-defined]
    return response


def _is_mocked_mode(self: Environment) -> bool:
    """Wraps `Environment.is_mocked_mode`.

    Restores: a Task state with a `state` fault for this attempt skips its integration (Step Functions
    Local's mocked service integrations); moto's own mock test cases still work."""
    return _mocked_response(self) is not None or _original_is_mocked(self)


def _get_current_mocked_response(self: Environment) -> MockedResponse:
    """Wraps `Environment.get_current_mocked_response`: the fault plan's mocked result or error."""
    return _mocked_response(self) or _original_mocked_response(self)


register(
    [
        (StepFunctionsParserBackend, "start_execution", _start_execution),
        (Environment, "is_mocked_mode", _is_mocked_mode),
        (Environment, "get_current_mocked_response", _get_current_mocked_response),
    ],
    [
        Seam(StepFunctionsParserBackend, "start_execution",
             ("self", "state_machine_arn", "name", "execution_input", "trace_header"), _start_execution.__doc__ or "",
             proved_by="tests/sim/faults/test_state_faults.py::test_starting_an_unknown_test_case_is_invalid_name"),
        Seam(Environment, "is_mocked_mode", ("self",), _is_mocked_mode.__doc__ or "",
             proved_by="tests/sim/faults/test_state_faults.py::test_mock_config_test_case_retries_through_numbered_responses_then_succeeds"),
        Seam(Environment, "get_current_mocked_response", ("self",), _get_current_mocked_response.__doc__ or "",
             proved_by="tests/sim/faults/test_state_faults.py::test_numbered_responses_count_within_one_execution_not_across_executions"),
    ],
)
