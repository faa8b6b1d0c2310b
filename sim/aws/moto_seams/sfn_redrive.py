"""`RedriveExecution`: restart a failed, timed-out or aborted Standard execution from the state it stopped in.

moto has no redrive. The spec is the Step Functions API reference (RedriveExecution, DescribeExecution's
`redrive*` fields, `ExecutionRedrivenEventDetails`, as botocore's stepfunctions service model carries it)
and the developer guide's "Redriving executions":
- only a Standard execution that is not RUNNING or SUCCEEDED, within 14 days of its stop and under the
  history limit, can be redriven; otherwise `ExecutionNotRedrivable` with the reason DescribeExecution
  gives as `redriveStatusReason` ("Execution is SUCCEEDED and cannot be redriven", ...);
- the redrive continues the same execution (same ARN, same definition, history appended to): an
  `ExecutionRedriven` event (`redriveCount`), then the state that did not complete is entered again with
  the input it had; states that succeeded are not rerun; the context object gets
  `Execution.RedriveCount` / `RedriveTime`;
- DescribeExecution reports `redriveCount` (0 before any redrive), `redriveDate` (after one),
  `redriveStatus` REDRIVABLE / NOT_REDRIVABLE and, when not redrivable, `redriveStatusReason`;
  ListExecutions items of redriven executions carry `redriveCount` / `redriveDate`, and `redriveFilter` works.
A Distributed Map whose map run failed is redriven as a map run (`sfn_map_runs`: only its unsuccessful
children run again, `MapRunRedriven`). Known gap: a failed Inline Map or Parallel state is rerun whole
(AWS reruns only its failed iterations/branches).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import ExecutionDoesNotExist, ValidationException
from moto.stepfunctions.parser.api import (
    ExecutionRedrivenEventDetails,
    ExecutionStatus,
    HistoryEventType,
    StateMachineType,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.responses import StepFunctionResponse

from sim import clock
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_api import DESCRIBE_EXECUTION_FIELDS
from sim.aws.moto_seams.sfn_history import reopen
from sim.aws.moto_seams.sfn_map_runs import redrive_map_run
from sim.aws.moto_seams.sfn_versions import LIST_EXECUTIONS_ITEMS

REDRIVABLE_DAYS = 14
HISTORY_LIMIT = 24_999  # "less than 24,999 events": room for ExecutionRedriven and one more event
_ENDED = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)


class ExecutionNotRedrivable(AWSError):
    TYPE = "ExecutionNotRedrivable"
    STATUS = 400


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(clock.now(), tz=datetime.UTC)


def _history(execution: Any) -> list[dict[str, Any]]:
    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    return env.event_manager.get_event_history() if env is not None else []


def not_redrivable_reason(execution: Any) -> str | None:
    """Why RedriveExecution would refuse `execution` now (AWS's words), or None when it may be redriven."""
    # An Express execution never gets here: its `…:express:…` ARN is refused with InvalidArn "Resource type
    # not valid in this context: express" (`sfn_arns`, `sfn_express_arns`), as AWS refuses RedriveExecution
    # for EXPRESS machines (API reference); the reference lists no redriveStatusReason for them.
    status = execution.exec_status
    if status not in _ENDED:
        return f"Execution is {status.value if status else 'RUNNING'} and cannot be redriven"
    stop = execution.stop_date
    if stop is not None and _now() - _aware(stop) > datetime.timedelta(days=REDRIVABLE_DAYS):
        return "Execution redrivable period exceeded"
    if len(_history(execution)) >= HISTORY_LIMIT:
        return "Execution history event limit exceeded"
    return None


def _aware(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def redrive_fields(execution: Any) -> dict[str, Any]:
    """DescribeExecution's redrive fields (Standard executions)."""
    if getattr(execution, "sm_type", None) == StateMachineType.EXPRESS:
        return {}
    fields: dict[str, Any] = {"redriveCount": getattr(execution, "redrive_count", 0)}
    if getattr(execution, "redrive_date", None) is not None:
        fields["redriveDate"] = execution.redrive_date
    reason = not_redrivable_reason(execution)
    fields["redriveStatus"] = "NOT_REDRIVABLE" if reason else "REDRIVABLE"
    if reason:
        fields["redriveStatusReason"] = reason
    return fields


def failure_point(events: list[dict[str, Any]], start_at: str | None = None) -> tuple[str, Any]:
    """The top-level state the execution stopped in (entered, never exited) and the input it entered with.

    States nested in a Map or Parallel are entered while their parent is open; only the parent counts. An
    execution stopped before it entered any state (StopExecution right after StartExecution) resumes at
    `start_at` with the execution's input: nothing of it succeeded, so nothing is skipped."""
    open_state: tuple[str, str] | None = None
    if start_at is not None and not any(e.get("stateEnteredEventDetails") for e in events):
        started = next((e["executionStartedEventDetails"] for e in events if e.get("executionStartedEventDetails")),
                       {})
        return start_at, json.loads(started.get("input") or "{}")
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        if entered and open_state is None:
            open_state = (entered["name"], entered.get("input", "{}"))
        elif exited and open_state is not None and exited["name"] == open_state[0]:
            open_state = None
    if open_state is None:
        raise ExecutionNotRedrivable("Execution has no state to redrive from")  # (guess)
    return open_state[0], json.loads(open_state[1] or "null")


def _fresh_environment(old: Environment) -> Environment:
    """A new interpreter environment continuing `old`'s history, context, variables and map runs.

    Not `old` itself: a thread of the first attempt may still be inside a state (a timed-out execution's
    interpreter is not interrupted); it keeps seeing `old` stopped and ends there. Task tokens of the first
    attempt are not carried over (a new callback pool), as a redriven Task gets a new token."""
    env = Environment(aws_execution_details=old.aws_execution_details, execution_type=old.execution_type,
                      context=old.states.context_object.context_object_data,
                      event_history_context=old.event_history_context,
                      cloud_watch_logging_session=old.cloud_watch_logging_session,
                      activity_store=old.activity_store, variable_store=old.variable_store,
                      mock_test_case=old.mock_test_case)  # fmt: skip
    env.event_manager = old.event_manager
    env.map_run_record_pool_manager = old.map_run_record_pool_manager
    return env


def redrive(execution: Any) -> datetime.datetime:
    """Restart `execution` from its failure point on a new interpreter thread; returns the redrive date."""
    reason = not_redrivable_reason(execution)
    if reason:
        raise ExecutionNotRedrivable(reason)
    worker = execution.exec_worker
    start_at = json.loads(worker._evaluation_details.state_machine_details.definition).get("StartAt")
    name, state_input = failure_point(worker.env.event_manager.get_event_history(), start_at)
    env = worker.env = _fresh_environment(worker.env)
    redrive_map_run(env, name)  # a Distributed Map re-runs only its failed children
    count = getattr(execution, "redrive_count", 0) + 1
    date = _now()
    execution.redrive_count, execution.redrive_date = count, date
    execution.exec_status = ExecutionStatus.RUNNING
    execution.stop_date = execution.error = execution.cause = None
    execution.output = None

    context = env.states.context_object.context_object_data
    context["Execution"]["RedriveCount"] = count
    context["Execution"]["RedriveTime"] = date.isoformat().replace("+00:00", "Z")
    env.next_state_name = name  # a fresh environment starts RUNNING at the first state name it is given
    env.states.reset(state_input)
    reopen(env.event_manager)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionRedriven,
        event_details=EventDetails(executionRedrivenEventDetails=ExecutionRedrivenEventDetails(redriveCount=count)),
    )  # the resumed state's first event follows from it
    program = AmazonStateLanguageParser.parse(worker._evaluation_details.state_machine_details.definition)[0]

    def resume() -> None:
        # Program.eval would restart at StartAt: evaluate its body from the state set above instead.
        EvalComponent.eval(program, env)
        worker._execution_communication.terminated()

    clock.ActorThread(target=resume, name=f"redrive-{execution.name}", daemon=True).start()
    return date


def _redrive_execution(self: StepFunctionResponse) -> ActionResult:
    """`RedriveExecution` (moto lacks it): {"executionArn", "clientToken"?} -> {"redriveDate"}."""
    arn = self._get_param("executionArn")
    execution = self.stepfunction_backend.describe_execution(arn)
    if not hasattr(execution, "exec_worker"):
        raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
    return ActionResult({"redriveDate": redrive(execution)})


REDRIVE_FILTERS = ("REDRIVEN", "NOT_REDRIVEN")


def _redrive_items(self: StepFunctionResponse) -> Callable[[Any, dict[str, Any]], bool]:
    """ListExecutions' redrive side (sfn_versions' row owns the action, `LIST_EXECUTIONS_ITEMS`).

    Restores: a redriven execution's item carries `redriveCount` and `redriveDate`; `redriveFilter`
    (REDRIVEN / NOT_REDRIVEN) keeps only executions that were (not) redriven, applied to each page (a page
    may then hold fewer than maxResults items, which the API allows).
    """
    wanted = self._get_param("redriveFilter")
    if wanted is not None and wanted not in REDRIVE_FILTERS:
        raise ValidationException(f"1 validation error detected: Value '{wanted}' at 'redriveFilter' failed to "
                                  "satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]")

    def complete(execution: Any, item: dict[str, Any]) -> bool:
        count = getattr(execution, "redrive_count", 0)
        if count:
            item.update(redriveCount=count, redriveDate=execution.redrive_date)
        return wanted is None or (wanted == "REDRIVEN") == bool(count)

    return complete


DESCRIBE_EXECUTION_FIELDS.append(redrive_fields)
LIST_EXECUTIONS_ITEMS.append(_redrive_items)

register(
    # RedriveExecution is an API action moto does not have at all: added, nothing to restore on uninstall.
    [(StepFunctionResponse, "redrive_execution", _redrive_execution)],
    [Seam(StepFunctionResponse, "redrive_execution", (), _redrive_execution.__doc__ or "", adds=True,
          proved_by="tests/sim/aws/sfn/test_redrive.py::test_redrive_resumes_at_the_failed_state_with_its_input_and_skips_what_succeeded")],
)
