"""Lambda as Step Functions sees it: the optimised `arn:aws:states:::lambda:invoke` result, the error
cause of both Lambda Task kinds, and the size limit on what a function returns.

Sources: the Step Functions developer guide, "Invoke an AWS Lambda function with Step Functions"
(connect-lambda: "the function output is nested inside a dictionary of metadata", the Payload parsed
from escaped JSON), and results recorded on AWS: a `lambda:invoke` result reads

    {"ExecutedVersion": "$LATEST", "Payload": {...},
     "SdkHttpMetadata": {"AllHttpHeaders": {"X-Amz-Executed-Version": ["$LATEST"], ...},
                         "HttpHeaders": {"Connection": "keep-alive", ...}, "HttpStatusCode": 200},
     "SdkResponseMetadata": {"RequestId": "..."}, "StatusCode": 200}

A failing function's `cause` is its error payload re-serialised compactly by the optimised integration
(`{"errorMessage":"...","errorType":"...",...}`), but passed as the function returned it, with the
Python runtime's spacing, by a Task whose Resource is the function ARN itself (both seen in recorded
executions). A result over 256 KiB fails the state with `States.DataLimitExceeded` and "The state/task
'<name>' returned a result with a size exceeding the maximum number of bytes service limit.", naming
the function ARN for a bare-ARN Task (recorded on AWS) and the state for `lambda:invoke`.

Loaded with the other Step Functions seams when moto's Step Functions is first imported.
"""

from __future__ import annotations

import email.utils
import json
import threading
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.quotas import is_within_size_quota

from sim import clock
from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ORIGINAL_EXECUTE = lambda_eval_utils.execute_lambda_function_integration
_ORIGINAL_SERVICE_EVAL = StateTaskServiceLambda._eval_service_task
_ORIGINAL_SUPPORTED_PARAMETERS = StateTaskServiceLambda._get_supported_parameters
_ORIGINAL_LAMBDA_FROM_ERROR = StateTaskLambda._from_error
_ORIGINAL_LAMBDA_QUOTA = StateTaskLambda._verify_size_quota

# The HTTP side of the last Invoke on this thread, for the optimised integration's metadata.
_last_http = threading.local()


def _invoke(parameters: dict, region: str, state_credentials: Any) -> tuple[dict[str, Any], bytes]:
    """Lambda Invoke through moto's own client; the response with its Payload parsed, and the raw bytes."""
    client = lambda_eval_utils.boto_client_for(service="lambda", region=region, state_credentials=state_credentials)
    response = client.invoke(**parameters)
    raw = response["Payload"].read()
    try:
        response["Payload"] = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        response["Payload"] = raw.decode("utf-8", "replace")
    return response, raw


def _execute_lambda_function_integration(env: Any, parameters: dict, region: str, state_credentials: Any) -> None:
    """Replaces `lambda_eval_utils.execute_lambda_function_integration` (both Lambda Task kinds call it).

    Restores: a failed invocation keeps the function's own error payload besides moto's compact
    re-serialisation (a bare-ARN Task's cause is that payload as the runtime wrote it), and the Invoke
    response's HTTP headers and request id are kept for the `lambda:invoke` result's SdkHttpMetadata and
    SdkResponseMetadata (moto dropped them).
    """
    _last_http.value = None
    if env.is_mocked_mode():
        _ORIGINAL_EXECUTE(env, parameters, region, state_credentials)
        return
    response, raw = _invoke(parameters, region, state_credentials)
    function_error = response.get("FunctionError")
    if function_error:
        error = lambda_eval_utils.LambdaFunctionErrorException(
            function_error, json.dumps(response["Payload"], separators=(",", ":")))
        error.raw_payload = raw.decode("utf-8", "replace")  # type: ignore[attr-defined]
        raise error
    metadata = response.get("ResponseMetadata", {})
    _last_http.value = (metadata.get("HTTPHeaders", {}), metadata.get("RequestId", ""), len(raw))
    env.stack.append({key: response[key] for key in ("ExecutedVersion", "FunctionError", "LogResult", "Payload",
                                                     "StatusCode") if key in response})


def _sdk_http_metadata(headers: dict[str, str], request_id: str, length: int, version: str,
                       status: int) -> dict[str, Any]:
    """The Java SDK's view of Lambda's Invoke response, as Step Functions puts it in the result: every
    header AWS sends, once as lists (AllHttpHeaders, in the order of the recorded result) and once as
    values sorted case-insensitively (HttpHeaders)."""
    trace = headers.get("x-amzn-trace-id") or _trace_id()
    values = {
        "X-Amz-Executed-Version": version,
        "x-amzn-Remapped-Content-Length": "0",
        "Connection": "keep-alive",
        "x-amzn-RequestId": request_id,
        "Content-Length": str(length),
        "Date": email.utils.formatdate(clock.now(), usegmt=True),
        "X-Amzn-Trace-Id": trace,
        "Content-Type": "application/json",
    }
    return {
        "AllHttpHeaders": {name: [value] for name, value in values.items()},
        "HttpHeaders": dict(sorted(values.items(), key=lambda item: item[0].lower())),
        "HttpStatusCode": status,  # 200; 202 for InvocationType Event
    }


def _trace_id() -> str:
    """An X-Ray trace header as Lambda answers without active tracing: `root=1-<epoch hex>-<24 hex>;sampled=0`."""
    return f"root=1-{int(clock.now()):08x}-{sim_context.current().ids.hex('lambda-trace', 24)};sampled=0"


def _service_eval_service_task(self: StateTaskServiceLambda, env: Any, resource_runtime_part: Any,
                               normalised_parameters: dict, state_credentials: Any) -> None:
    """Wraps `StateTaskServiceLambda._eval_service_task` (`arn:aws:states:::lambda:invoke`).

    Restores: the result AWS gives, `{ExecutedVersion, Payload, SdkHttpMetadata {AllHttpHeaders,
    HttpHeaders, HttpStatusCode}, SdkResponseMetadata {RequestId}, StatusCode}` (moto gave only
    ExecutedVersion, Payload and StatusCode), so ResultSelector/ResultPath on those fields work.
    """
    _ORIGINAL_SERVICE_EVAL(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    http = getattr(_last_http, "value", None)
    if http is None:  # a mocked response: keep it as the mock gave it
        return
    headers, request_id, length = http
    result = env.stack.pop()
    version = str(result.get("ExecutedVersion", "$LATEST"))
    shaped: dict[str, Any] = {"ExecutedVersion": version}
    if "LogResult" in result:
        shaped["LogResult"] = result["LogResult"]
    shaped["Payload"] = result.get("Payload")
    status = int(result.get("StatusCode", 200))
    shaped["SdkHttpMetadata"] = _sdk_http_metadata(headers, request_id, length, version, status)
    shaped["SdkResponseMetadata"] = {"RequestId": request_id}
    shaped["StatusCode"] = status
    env.stack.append(shaped)


def _service_supported_parameters(self: StateTaskServiceLambda) -> set[str] | None:
    """Wraps `StateTaskServiceLambda._get_supported_parameters` (moto drops every parameter not listed).

    Restores: `InvocationType` (connect-lambda's supported parameters: ClientContext, FunctionName,
    InvocationType, Qualifier, Payload), so `"InvocationType": "Event"` invokes asynchronously and the
    result says 202; moto dropped it and invoked synchronously.
    """
    supported = _ORIGINAL_SUPPORTED_PARAMETERS(self)
    return None if supported is None else supported | {"InvocationType"}


def _service_verify_size_quota(self: StateTaskServiceLambda, env: Any, value: Any) -> None:
    """Replaces `_verify_size_quota` for `lambda:invoke` (moto's base class named the resource type,
    'lambda'): a result over 256 KiB fails with States.DataLimitExceeded naming the state."""
    if is_within_size_quota(value):
        return
    raise FailureEventException(failure_event=FailureEvent(
        env=env,
        error_name=StatesErrorName(typ=StatesErrorNameType.StatesStatesDataLimitExceeded),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
            error=StatesErrorNameType.StatesStatesDataLimitExceeded.to_name(),
            cause=_data_limit_cause(self.name),
            resource=self._get_sfn_resource(),
            resourceType=self._get_sfn_resource_type(),
        )),
    ))


def _data_limit_cause(name: str) -> str:
    return f"The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."


def _lambda_verify_size_quota(self: StateTaskLambda, env: Any, value: Any) -> None:
    """Wraps `StateTaskLambda._verify_size_quota` (a Task whose Resource is the function ARN): the limit
    applies to what the function returned, the Payload (moto measured the whole Invoke response)."""
    _ORIGINAL_LAMBDA_QUOTA(self, env, value.get("Payload") if isinstance(value, dict) else value)


def _lambda_from_error(self: StateTaskLambda, env: Any, ex: Exception) -> FailureEvent:
    """Wraps `StateTaskLambda._from_error` (a Task whose Resource is the function ARN).

    Restores: the LambdaFunctionFailed cause is the error payload as the function returned it, with
    the Python runtime's spacing (`{"errorMessage": "boom", "errorType": ...}`), not re-serialised.
    """
    raw = getattr(ex, "raw_payload", None)
    if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException) and raw is not None:
        ex = lambda_eval_utils.LambdaFunctionErrorException(ex.function_error, raw)
    return _ORIGINAL_LAMBDA_FROM_ERROR(self, env, ex)


register(
    [
        (lambda_eval_utils, "execute_lambda_function_integration", _execute_lambda_function_integration),
        (StateTaskServiceLambda, "_eval_service_task", _service_eval_service_task),
        (StateTaskServiceLambda, "_verify_size_quota", _service_verify_size_quota),
        (StateTaskServiceLambda, "_get_supported_parameters", _service_supported_parameters),
        (StateTaskLambda, "_verify_size_quota", _lambda_verify_size_quota),
        (StateTaskLambda, "_from_error", _lambda_from_error),
    ],
    [
        Seam(lambda_eval_utils, "execute_lambda_function_integration",
             ("env", "parameters", "region", "state_credentials"),
             _execute_lambda_function_integration.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_lambda_tasks.py::test_bare_function_arn_cause_is_the_runtimes_payload_with_its_spacing"),
        Seam(StateTaskServiceLambda, "_eval_service_task",
             ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
             _service_eval_service_task.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_lambda_tasks.py::test_lambda_invoke_result_carries_aws_metadata"),
        Seam(StateTaskServiceLambda, "_verify_size_quota", ("self", "env", "value"),
             _service_verify_size_quota.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_lambda_tasks.py::test_result_over_256_kib_fails_lambda_invoke_with_data_limit_exceeded"),
        Seam(StateTaskServiceLambda, "_get_supported_parameters", ("self",),
             _service_supported_parameters.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_lambda_tasks.py::test_an_asynchronous_invoke_answers_202_and_an_empty_payload"),
        Seam(StateTaskLambda, "_verify_size_quota", ("self", "env", "value"), _lambda_verify_size_quota.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_lambda_tasks.py::test_result_over_256_kib_fails_a_bare_arn_task_naming_the_function"),
        Seam(StateTaskLambda, "_from_error", ("self", "env", "ex"), _lambda_from_error.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_lambda_tasks.py::test_bare_function_arn_cause_is_the_runtimes_payload_with_its_spacing"),
    ],
)
