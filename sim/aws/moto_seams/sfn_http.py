"""The HTTP Task (`arn:aws:states:::http:invoke`) in moto's interpreter, which refused it ("Unknown
service 'http'").

`state_task_service_for("http")` answers a `StateTaskServiceHttp`: a service Task like the others
(TaskScheduled/Started/Succeeded or TaskFailed with resourceType `http` and resource `invoke`, `state`
faults and mock test cases replace the call as for any integration), whose call is made by
`sim.aws.http_task` with the EventBridge connection read from moto's Events backend and its secret from
moto's Secrets Manager (moto's CreateConnection already stores the secret as EventBridge does).

The `States.Http.*` error names are AWS's own; `sfn_language` lets them through `ErrorEquals`.
"""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import events_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from sim.aws import http_task
from sim.aws.moto_seams.core import Seam, register

__all__ = ["StateTaskServiceHttp"]

_ORIGINAL_SERVICE_FOR = state_task_factory.state_task_service_for
_PARAMETERS = {"ApiEndpoint", "Method", "Authentication", "InvocationConfig", "Headers", "QueryParameters",
               "Transform", "RequestBody"}


def _connection(arn: str) -> http_task.Connection:
    """The connection `arn` names, with its secret, as EventBridge hands it to Step Functions."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "events" or not parts[5].startswith("connection/"):
        raise http_task.HttpTaskError("Events.ConnectionResource.ResourceNotFound",
                                      f"The connection {arn} does not exist")
    region, account, name = parts[3], parts[4], parts[5].split("/")[1]
    found = events_backends[account][region].connections.get(name)
    if found is None or found.arn != arn:
        raise http_task.HttpTaskError("Events.ConnectionResource.ResourceNotFound",
                                      f"The connection {arn} does not exist")
    if found.state != "AUTHORIZED":
        raise http_task.HttpTaskError("Events.ConnectionResource.InvalidConnectionState",
                                      f"The connection {arn} is in state {found.state}")
    secret = secretsmanager_backends[account][region].get_secret_value(found.secret_arn, None, None)
    return http_task.connection_from_secret(arn, found.authorization_type, json.loads(secret["SecretString"]))


class StateTaskServiceHttp(StateTaskService):
    """`arn:aws:states:::http:invoke` (request-response only: AWS offers no `.sync` or callback for it)."""

    def _get_supported_parameters(self) -> set[str] | None:
        return _PARAMETERS if self.resource.api_action == "invoke" and self.resource.condition is None else None

    def _from_error(self, env: Any, ex: Exception) -> FailureEvent:
        if not isinstance(ex, http_task.HttpTaskError):
            return super()._from_error(env=env, ex=ex)
        runtime = ex.error == StatesErrorNameType.StatesRuntime.to_name()
        name = StatesErrorName(typ=StatesErrorNameType.StatesRuntime) if runtime else CustomErrorName(ex.error)
        return FailureEvent(
            env=env,
            error_name=name,
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                error=ex.error, cause=ex.cause, resource=self._get_sfn_resource(),
                resourceType=self._get_sfn_resource_type())),
        )

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        env.stack.append(http_task.invoke(normalised_parameters, _connection, resource_runtime_part.region))


def _state_task_service_for(service_name: str) -> StateTaskService:
    """Wraps `state_task_factory.state_task_service_for`.

    Restores: `arn:aws:states:::http:invoke` is a Task (moto raised "Unknown service 'http'")."""
    if service_name == "http":
        return StateTaskServiceHttp()
    return _ORIGINAL_SERVICE_FOR(service_name=service_name)


register(
    [
        (state_task_factory, "state_task_service_for", _state_task_service_for),
    ],
    [
        Seam(state_task_factory, "state_task_service_for", ("service_name",), _state_task_service_for.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_http_invoke.py::test_result_has_aws_shape_with_header_lists_and_parsed_json"),
    ],
)
