"""Express executions named as AWS names them.

AWS gives an Express execution the ARN `arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>`
(StartExecution and StartSyncExecution, recorded in LocalStack's
tests/aws/services/stepfunctions/v2/test_sfn_api_express.snapshot.json), and DescribeExecution,
StopExecution and GetExecutionHistory refuse it (`InvalidArn`: "Invalid Arn: 'Resource type not valid in
this context: express'", `sfn_arns`): an Express execution is seen through CloudWatch Logs only. moto
named it like a Standard one and described it.

Registered with `core.register` at import.
"""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.responses import get_backend

from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register

__all__ = ["answer_express_describes", "express_execution_arn", "name_express_execution"]

_ORIGINAL_VALIDATE = StepFunctionBackend._validate_execution_arn


def express_execution_arn(standard_arn: str, execution_id: str) -> str:
    """`arn:…:execution:<machine>:<name>` as the Express ARN `arn:…:express:<machine>:<name>:<id>`."""
    parts = standard_arn.split(":")
    parts[5] = "express"
    return ":".join([*parts, execution_id])


def name_express_execution(kwargs: dict[str, Any]) -> None:
    """Give the `Execution(**kwargs)` about to be made its Express ARN when its machine is Express: AWS's
    `arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>` (StartExecution, StartSyncExecution,
    `$$.Execution.Id`, the CloudWatch Logs `execution_arn`). Called by `sfn_logging`'s row on
    `Execution.__init__`, the one patch of that attribute. moto's execution `sm_type` is always STANDARD,
    so the machine's `type` decides."""
    machine, arn = kwargs.get("state_machine"), kwargs.get("exec_arn")
    express = getattr(machine, "type", None) == StateMachineType.EXPRESS
    if express and isinstance(arn, str) and arn.split(":")[5:6] == ["execution"]:
        kwargs["exec_arn"] = express_execution_arn(arn, sim_context.current().ids.uuid("express-execution"))


class _Answered:
    """The HTTP side of a response botocore did not fetch (a `before-call` handler answered)."""

    status_code = 200
    headers: dict[str, str] = {}


def _describe_express(params: dict[str, Any], **_: Any) -> tuple[_Answered, dict[str, Any]] | None:
    body = params.get("body") or b"{}"
    arn = str(json.loads(body).get("executionArn", ""))
    parts = arn.split(":")
    if parts[5:6] != ["express"]:
        return None
    described = get_backend(parts[4], parts[3]).describe_execution(arn).to_describe_output()
    return _Answered(), {key: value for key, value in described.items() if value is not None}


def answer_express_describes(client: Any) -> None:
    """Let the interpreter's own Step Functions client (`states:startExecution.sync` polling its child)
    describe an Express execution, which the API refuses to callers: AWS runs Express children under
    `.sync` ("Start a new AWS Step Functions state machine from a running execution")."""
    client.meta.events.register("before-call.sfn.DescribeExecution", _describe_express)


def _validate_execution_arn(self: StepFunctionBackend, execution_arn: str) -> None:
    """Wraps `StepFunctionBackend._validate_execution_arn`.

    Restores: the backend finds an Express execution by its Express ARN (the simulator's StartSyncExecution,
    `.sync` on an Express child), while the API actions refuse that ARN before they reach the backend
    (`sfn_arns`), as AWS does; moto's ARN check knew only `:execution:`.
    """
    if execution_arn.split(":")[5:6] == ["express"]:
        return
    _ORIGINAL_VALIDATE(self, execution_arn)


register(
    [(StepFunctionBackend, "_validate_execution_arn", _validate_execution_arn)],
    [Seam(StepFunctionBackend, "_validate_execution_arn", ("self", "execution_arn"),
          _validate_execution_arn.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_express_executions_have_express_arns_that_describe_refuses")],
)
