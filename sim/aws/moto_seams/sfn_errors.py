"""Runtime errors of a state worded and recorded as AWS records them.

The wordings are those of executions recorded on AWS (LocalStack's snapshot tests,
tests/aws/services/stepfunctions/v2/scenarios/test_base_scenarios.snapshot.json: `test_invalid_jsonpath`,
`test_map_state_items_input_types`). Registered with `core.register` at import.
"""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import HeartbeatSecondsPath
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSecondsPath
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_DECORATION = "An error occurred while executing the state '"


def _decorated(failure: FailureEventException) -> str:
    event = failure.failure_event
    cause = (event.event_details or {}).get("executionFailedEventDetails", {}).get("cause", "")
    return f"{_DECORATION}{event.state_name}' (entered at the event id #{event.source_event_id}). {cause}"


def _path_seconds(original: Any) -> Any:
    def eval_seconds(self: Any, env: Any) -> int:
        """Wraps `TimeoutSecondsPath._eval_seconds` / `HeartbeatSecondsPath._eval_seconds`.

        Restores: a path that selects nothing fails the execution with States.Runtime "An error occurred
        while executing the state 'task' (entered at the event id #2). Invalid path '$.x' : No results for
        path: $['x']", as recorded on AWS; moto recorded the execution's failure without the state's part.
        """
        try:
            return original(self, env)
        except FailureEventException as failure:
            details = (failure.failure_event.event_details or {}).get("executionFailedEventDetails")
            if details is not None and not str(details.get("cause", "")).startswith(_DECORATION):
                details["cause"] = _decorated(failure)
            raise

    return eval_seconds


_ORIGINAL_EXECUTION_FAILED_DETAILS = FailureEventException.get_execution_failed_event_details


def _execution_failed_event_details(self: FailureEventException) -> Any:
    """Wraps `FailureEventException.get_execution_failed_event_details`: a cause that already names its
    state (decorated where the failure was raised) is not decorated a second time."""
    pair = self.extract_error_cause_pair()
    if pair is not None and str(pair[1] or "").startswith(_DECORATION):
        details = {"error": pair[0]} if pair[0] else {}
        details["cause"] = pair[1]
        return details
    return _ORIGINAL_EXECUTION_FAILED_DETAILS(self)


_ORIGINAL_MAP_EVAL = StateMap._eval_execution


def _map_eval_execution(self: StateMap, env: Any) -> None:
    """Wraps `StateMap._eval_execution`.

    Restores: a Map whose items are not an array fails with States.QueryEvaluationError "Map state input
    must be an array but was: 1" (the value as JSON: `"string"`, `true`, `null`, `{…}`), as recorded on
    AWS; moto printed the Python type ("<class 'int'>").
    """
    try:
        _ORIGINAL_MAP_EVAL(self, env)
    except FailureEventException as failure:
        details = (failure.failure_event.event_details or {}).get("evaluationFailedEventDetails")
        prefix = "Map state input must be an array but was: <class"
        if details is not None and self.items_path and str(details.get("cause", "")).startswith(prefix):
            self.items_path.eval(env=env)  # a path read: the value that was not an array
            details["cause"] = "Map state input must be an array but was: " + json.dumps(
                env.stack.pop(), separators=(",", ":"), ensure_ascii=False)
        raise


_TIMEOUT_SECONDS = TimeoutSecondsPath._eval_seconds
_HEARTBEAT_SECONDS = HeartbeatSecondsPath._eval_seconds
_timeout_seconds = _path_seconds(_TIMEOUT_SECONDS)
_heartbeat_seconds = _path_seconds(_HEARTBEAT_SECONDS)

register(
    [(TimeoutSecondsPath, "_eval_seconds", _timeout_seconds),
     (HeartbeatSecondsPath, "_eval_seconds", _heartbeat_seconds),
     (FailureEventException, "get_execution_failed_event_details", _execution_failed_event_details),
     (StateMap, "_eval_execution", _map_eval_execution)],
    [Seam(TimeoutSecondsPath, "_eval_seconds", ("self", "env"), _timeout_seconds.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_runtime_errors.py::test_seconds_path_that_selects_nothing_fails_the_execution_naming_the_state[TimeoutSecondsPath]"),
     Seam(HeartbeatSecondsPath, "_eval_seconds", ("self", "env"), _heartbeat_seconds.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_runtime_errors.py::test_seconds_path_that_selects_nothing_fails_the_execution_naming_the_state[HeartbeatSecondsPath]"),
     Seam(FailureEventException, "get_execution_failed_event_details", ("self",),
          _execution_failed_event_details.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_runtime_errors.py::test_seconds_path_that_selects_nothing_fails_the_execution_naming_the_state[TimeoutSecondsPath]"),
     Seam(StateMap, "_eval_execution", ("self", "env"), _map_eval_execution.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_runtime_errors.py::test_map_over_a_value_that_is_not_an_array_names_the_value")],
)
