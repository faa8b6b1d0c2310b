"""The SQS, SNS and DynamoDB optimised integrations (`arn:aws:states:::sqs:sendMessage`, `sns:publish`,
`dynamodb:putItem|getItem|updateItem|deleteItem`) as AWS runs them.

moto's interpreter called the service and dropped the response metadata; AWS's result carries the Java
SDK's `SdkHttpMetadata` and `SdkResponseMetadata` (sorted in among the result's keys), and its errors
are `<Prefix>.<Java exception class>` with the SDK's cause (see `sim.aws.sfn_sdk_shapes`). moto named
every SQS error `SQS.SdkClientException` with the bare message and turned DynamoDB's error codes
straight into names (`DynamoDB.ValidationException` where AWS says `DynamoDB.AmazonDynamoDBException`).
Registered with `core.register` at import.
"""

from __future__ import annotations

import functools
import socket
import sys
import urllib.parse
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.response import StreamingBody
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
    StateTaskServiceDynamoDB,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns import (
    StateTaskServiceSns,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs import (
    StateTaskServiceSqs,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from sim import clock
from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register
from sim.aws.sfn_sdk_shapes import aws_request_id, java_v1_error, sdk_metadata

__all__ = ["SdkClientError", "call_with_metadata", "failure_of_client_error"]

# The fields each integration turns into JSON text when they are not strings (developer guide, "Pass
# parameters to a service API": SQS MessageBody and SNS Message accept any JSON value).
_STRINGIFIED = {"sqs": "MessageBody", "sns": "Message"}
# Hosts the simulator answers for (any AWS endpoint, and its own loopback server).
_SIMULATED_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", "localhost", "127.0.0.1", "::1")


class SdkClientError(Exception):
    """The Java SDK's SdkClientException: the request never reached a service (e.g. unknown host)."""


def _with_metadata(result: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """AWS's result: the service fields and the SDK metadata, keys in alphabetical order (as recorded)."""
    merged = {**result, **metadata}
    return {key: merged[key] for key in sorted(merged, key=str.lower)}


def call_with_metadata(task: StateTaskService, region: str, credentials: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """Call the task's service API and return its result with `SdkHttpMetadata`/`SdkResponseMetadata`."""
    boto_name = task._get_boto_service_name()
    # The `boto_client_for` moto's module of this task imported (sfn_iam's row replaces it there, signing the
    # call with the execution role's credentials when IAM is enforced), not the one it was imported from.
    client_for = getattr(sys.modules[type(task).__module__], "boto_client_for", sfn_boto_client.boto_client_for)
    client = client_for(service=boto_name, region=region, state_credentials=credentials)
    response = getattr(client, task._get_boto_service_action())(**parameters) or {}
    response_metadata = response.pop("ResponseMetadata", {})
    request_id = aws_request_id(boto_name, str(response_metadata.get("RequestId", "")))
    operation = task.resource.api_action[:1].upper() + task.resource.api_action[1:]
    metadata = sdk_metadata(boto_name, operation, response, request_id,
                            int(response_metadata.get("HTTPStatusCode", 200)), clock.now())
    return _with_metadata(response, metadata)


def _check_queue_host(parameters: dict[str, Any]) -> None:
    """A QueueUrl on a host that does not resolve fails as the SDK fails to connect (AWS records
    "Unable to execute HTTP request: no-such-queue-73e08fde: Name or service not known")."""
    host = urllib.parse.urlsplit(str(parameters.get("QueueUrl") or "")).hostname
    if not host or host.endswith(_SIMULATED_HOST_SUFFIXES):
        return
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        raise SdkClientError(f"Unable to execute HTTP request: {host}: Name or service not known") from None


def _refuse_null_required(task: StateTaskService, parameters: dict[str, Any]) -> None:
    """The service's refusal of a request whose required member is null or missing, which the Java SDK
    sends as it is (botocore, which the interpreter calls with validation off, would send it too, and moto
    fails on it with HTTP 500). Recorded on AWS: DynamoDB "1 validation error detected: Value null at
    'item' failed to satisfy constraint: Member must not be null" (ValidationException), SQS "The request
    must contain the parameter MessageBody." (MissingParameter)."""
    boto_name = task._get_boto_service_name()
    if boto_name not in ("dynamodb", "sqs"):
        return
    shape = _shape(boto_name, task.resource.api_action, "input")
    missing = [name for name in (shape.required_members if isinstance(shape, StructureShape) else [])
               if parameters.get(name) is None]
    if not missing:
        return
    if boto_name == "sqs":
        code, message = "MissingParameter", f"The request must contain the parameter {missing[0]}."
    else:
        count = f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} detected"
        code = "ValidationException"
        message = count + ": " + "; ".join(
            f"Value null at '{name[:1].lower() + name[1:]}' failed to satisfy constraint: Member must not be null"
            for name in missing)
    request_id = sim_context.current().ids.uuid("request")
    raise ClientError({"Error": {"Code": code, "Message": message},
                       "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": 400}},
                      task.resource.api_action[:1].upper() + task.resource.api_action[1:])


def _eval_service_task(self: StateTaskService, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                       state_credentials: Any) -> None:
    """Replaces `_eval_service_task` of the SQS, SNS and DynamoDB integrations.

    Restores: the result carries `SdkHttpMetadata` and `SdkResponseMetadata` as on AWS (moto dropped the
    response metadata); SQS `MessageBody` / SNS `Message` values that are not strings are sent as JSON
    text; a QueueUrl whose host does not resolve fails with `SQS.SdkClientException`.
    """
    boto_name = self._get_boto_service_name()
    field = _STRINGIFIED.get(boto_name)
    if field and field in normalised_parameters:
        value = normalised_parameters[field]
        if value is not None and not isinstance(value, str):
            normalised_parameters[field] = to_json_str(value)
    if boto_name == "sqs":
        _check_queue_host(normalised_parameters)
    _refuse_null_required(self, normalised_parameters)
    env.stack.append(call_with_metadata(self, resource_runtime_part.region, state_credentials, normalised_parameters))


def _task_failed(task: StateTaskService, env: Any, error: str, cause: str) -> FailureEvent:
    return FailureEvent(
        env=env, error_name=CustomErrorName(error), event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
            error=error, cause=cause, resource=task._get_sfn_resource(), resourceType=task._get_sfn_resource_type())),
    )


def failure_of_client_error(task: StateTaskService, env: Any, ex: ClientError) -> FailureEvent:
    """The TaskFailed of a service error, named and worded as the Java SDK v1 reports it."""
    boto_name = task._get_boto_service_name()
    metadata = ex.response.get("ResponseMetadata", {})
    error, cause = java_v1_error(boto_name, str(ex.response["Error"].get("Code", "")),
                                 str(ex.response["Error"].get("Message", "")), int(metadata.get("HTTPStatusCode", 400)),
                                 aws_request_id(boto_name, str(metadata.get("RequestId", ""))),
                                 query_code=ex.response["Error"].get("QueryErrorCode"))
    return _task_failed(task, env, error, cause)


_ORIGINAL_FROM_ERROR = {cls: cls._from_error for cls in (StateTaskServiceSqs, StateTaskServiceSns, StateTaskServiceDynamoDB)}


def _from_error(self: StateTaskService, env: Any, ex: Exception) -> FailureEvent:
    """Replaces `_from_error` of the SQS, SNS and DynamoDB integrations.

    Restores: AWS's error names and causes: `SQS.AmazonSQSException`, `SQS.QueueDoesNotExistException`,
    `DynamoDB.ConditionalCheckFailedException`, `DynamoDB.AmazonDynamoDBException` (an unmodelled code
    such as ValidationException), `SNS.NotFoundException`, each with "(Service: AmazonSQS; Status Code:
    400; Error Code: …; Request ID: …; Proxy: null)"; `SQS.SdkClientException` only when the request
    never reached SQS.
    """
    if isinstance(ex, ClientError):
        return failure_of_client_error(self, env, ex)
    if isinstance(ex, SdkClientError):
        return _task_failed(self, env, f"{self._get_boto_service_name().upper()}.SdkClientException", str(ex))
    original = next(fn for cls, fn in _ORIGINAL_FROM_ERROR.items() if isinstance(self, cls))
    return original(self, env, ex)


_CLASSES = (StateTaskServiceSqs, StateTaskServiceSns, StateTaskServiceDynamoDB)
_EVAL_PARAMS = ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials")



# -- AWS SDK integrations: S3 object bodies ------------------------------------------------------------

# The content type AWS gives an object that `aws-sdk:s3:putObject` writes without one: the SDK sends the
# body as a string request body (recorded: "text/plain; charset=UTF-8").
_SDK_STRING_BODY_TYPE = "text/plain; charset=UTF-8"


def _aws_sdk_normalise_parameters(self: StateTaskServiceAwsSdk, parameters: dict, boto_service_name: str | None = None,
                                  service_action_name: str | None = None) -> None:
    """Fills `_normalise_parameters` of the AWS SDK integrations (a no-op in moto).

    Restores: the state's PascalCase parameters reach the API under its member names
    (`aws-sdk:sfn:getActivityTask`'s `ActivityArn` is `activityArn`; moto passed them as written and
    botocore failed with States.Runtime "'ActivityArn'"); a JSON value given for a string member is sent
    as its JSON text and one given for a blob as its JSON text's bytes (so `s3:putObject` stores a string
    "text data" as `"text data"`, 11 bytes, as AWS does), with content type "text/plain; charset=UTF-8"
    unless the state sets `ContentType`.
    """
    shape = _shape(self._get_boto_service_name(), self.resource.api_action, "input")
    if shape is not None:
        self._to_boto_request(parameters, shape)
    _refuse_null_required(self, parameters)
    is_put = self.resource.api_name == "s3" and self.resource.api_action.lower() == "putobject"
    if is_put and "Body" in parameters:
        parameters.setdefault("ContentType", _SDK_STRING_BODY_TYPE)


@functools.cache
def _shape(boto_name: str, api_action: str, direction: str) -> Shape | None:
    """The input or output shape of the API action a state calls (None for one botocore does not know)."""
    try:
        model = botocore.session.get_session().get_service_model(boto_name)
        operation = model.operation_model(api_action[:1].upper() + api_action[1:])
        return operation.input_shape if direction == "input" else operation.output_shape
    except Exception:  # an unknown service or action fails at the call, not here
        return None


def _sdk_v2_cased(value: Any, shape: Shape) -> Any:
    """`value` with every structure member name capitalised as the Java SDK v2 names it."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        cased = {}
        for key, item in value.items():
            member = shape.members.get(key)
            cased[key[:1].upper() + key[1:] if member is not None else key] = (
                _sdk_v2_cased(item, member) if member is not None else item)
        return cased
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_sdk_v2_cased(item, shape.member) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _sdk_v2_cased(item, shape.value) for key, item in value.items()}
    return value


def _aws_sdk_normalise_response(self: StateTaskServiceAwsSdk, response: Any, boto_service_name: str | None = None,
                                service_action_name: str | None = None) -> None:
    """Fills `_normalise_response` of the AWS SDK integrations (a no-op in moto).

    Restores: the result's field names are the API's member names with a capital first letter, as the
    Java SDK v2 names them (`aws-sdk:sfn:startExecution` → `{"ExecutionArn", "StartDate"}`,
    `getActivityTask` → `{"TaskToken", "Input"}`; moto kept botocore's camelCase), while names that are
    data (map keys, DynamoDB attribute names, S3 metadata) keep theirs. A streamed body
    (`aws-sdk:s3:getObject`'s `Body`) is its text in the result, as on AWS; moto kept the stream, and the
    state failed with States.Runtime "cannot pickle '_io.BufferedReader'". A GetObject result carries no
    `Checksum*` fields: AWS's integration client does not ask for response checksums (recorded results have
    none; boto3 asks by default, so moto sent them).
    """
    if not isinstance(response, dict):
        return
    for key, value in list(response.items()):
        if isinstance(value, StreamingBody):
            response[key] = value.read().decode("utf-8", "replace")
    shape = _shape(self._get_boto_service_name(), self.resource.api_action, "output")
    if shape is not None:
        cased = _sdk_v2_cased(response, shape)
        response.clear()
        response.update(cased)
    if self.resource.api_name == "s3" and self.resource.api_action.lower() == "getobject":
        for key in [k for k in response if k.startswith("Checksum")]:
            del response[key]


_CLASSES = (StateTaskServiceSqs, StateTaskServiceSns, StateTaskServiceDynamoDB)
_EVAL_PARAMS = ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials")
_NORMALISE_PARAMS = ("self", "parameters", "boto_service_name", "service_action_name")
_NORMALISE_RESPONSE_PARAMS = ("self", "response", "boto_service_name", "service_action_name")

_OPTIMISED = "tests/sim/aws/sfn/test_optimised_integrations.py::"
# Each class's rows' tests: (_eval_service_task, _from_error).
_PROVED_BY = {
    StateTaskServiceSqs: (_OPTIMISED + "test_sqs_send_message_returns_md5_message_id_and_sdk_metadata",
                          _OPTIMISED + "test_sqs_missing_queue_is_the_modelled_exception_with_the_java_sdk_cause"),
    StateTaskServiceSns: (_OPTIMISED + "test_sns_publish_returns_message_id_and_sdk_metadata",
                          _OPTIMISED + "test_sns_publish_to_a_missing_topic_fails_with_sns_not_found_exception"),
    StateTaskServiceDynamoDB: (_OPTIMISED + "test_dynamodb_put_then_get_item_return_aws_results_with_sdk_metadata",
                               _OPTIMISED + "test_dynamodb_unmodelled_error_code_is_the_base_amazon_dynamodb_exception"),
}

register(
    [(cls, "_eval_service_task", _eval_service_task) for cls in _CLASSES]
    + [(cls, "_from_error", _from_error) for cls in _CLASSES]
    + [(StateTaskServiceAwsSdk, "_normalise_parameters", _aws_sdk_normalise_parameters),
       (StateTaskServiceAwsSdk, "_normalise_response", _aws_sdk_normalise_response)],
    [Seam(cls, "_eval_service_task", _EVAL_PARAMS, _eval_service_task.__doc__ or "", proved_by=_PROVED_BY[cls][0])
     for cls in _CLASSES]
    + [Seam(cls, "_from_error", ("self", "env", "ex"), _from_error.__doc__ or "", proved_by=_PROVED_BY[cls][1])
       for cls in _CLASSES]
    + [Seam(StateTaskServiceAwsSdk, "_normalise_parameters", _NORMALISE_PARAMS,
            _aws_sdk_normalise_parameters.__doc__ or "",
            proved_by="tests/sim/aws/sfn/test_integrations.py::test_activity_worker_can_be_a_state_machine_calling_get_activity_task_via_aws_sdk"),
       Seam(StateTaskServiceAwsSdk, "_normalise_response", _NORMALISE_RESPONSE_PARAMS,
            _aws_sdk_normalise_response.__doc__ or "",
            proved_by="tests/sim/aws/sfn/test_optimised_integrations.py::test_aws_sdk_result_fields_are_capitalised_member_names")],
)
