"""What Step Functions' optimised integrations (SQS, SNS, DynamoDB, `states:startExecution`) add to a
service's answer, and how they name its errors.

AWS runs these integrations on the AWS SDK for Java v1, and it shows: a result carries the SDK's
`SdkHttpMetadata` (the HTTP headers as a multi-map and as a map, the status code) and
`SdkResponseMetadata` (`RequestId`); a failure is `<Prefix>.<Java exception class>` with the SDK's
message, "<message> (Service: AmazonSQS; Status Code: 400; Error Code: MissingParameter; Request ID: …;
Proxy: null)". The shapes here are read off executions recorded on AWS (LocalStack's snapshot tests,
tests/aws/services/stepfunctions/v2/services/*.snapshot.json and error_handling/*.snapshot.json, e.g.
`SQS.AmazonSQSException`, `DynamoDB.ResourceNotFoundException`, `SNS.NotFoundException`,
`StepFunctions.StateMachineDoesNotExistException`); the exception class of an error code comes from
botocore's service model (a modelled error shape is a class of its own, any other code is the service's
base exception), as the Java SDK generates them from the same models.
"""

from __future__ import annotations

import datetime
import decimal
import email.utils
import functools
import json
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import botocore.session

__all__ = ["SdkService", "java_v1_error", "sdk_metadata", "service_of"]


@dataclass(frozen=True)
class SdkService:
    """One service as the Java SDK v1 client names it."""

    boto_name: str  # botocore's service name
    prefix: str  # the prefix of Step Functions' error names ("SQS.…")
    service_name: str  # "Service: …" in the cause
    base_exception: str  # the class of an error code the model does not declare
    content_type: str
    uuid_request_ids: bool  # SQS, SNS, Step Functions: a UUID; DynamoDB: 52 characters


_SERVICES = {
    "sqs": SdkService("sqs", "SQS", "AmazonSQS", "AmazonSQSException", "application/x-amz-json-1.0", True),
    "sns": SdkService("sns", "SNS", "AmazonSNS", "AmazonSNSException", "text/xml", True),
    "dynamodb": SdkService("dynamodb", "DynamoDB", "AmazonDynamoDBv2", "AmazonDynamoDBException",
                           "application/x-amz-json-1.0", False),
    "stepfunctions": SdkService("stepfunctions", "StepFunctions", "AWSStepFunctions", "AWSStepFunctionsException",
                                "application/x-amz-json-1.0", True),
}


def service_of(boto_name: str) -> SdkService:
    return _SERVICES[boto_name]


@functools.cache
def _exception_classes(boto_name: str) -> dict[str, str]:
    """Error code → Java exception class, for every error shape botocore's model declares."""
    model = botocore.session.get_session().get_service_model(boto_name)
    classes: dict[str, str] = {}
    for shape in model.error_shapes:
        name = shape.name if shape.name.endswith("Exception") else shape.name + "Exception"
        codes = {shape.name, shape.error_code, (shape.metadata.get("awsQueryError") or {}).get("code")}
        for code in codes - {None}:
            classes[str(code)] = name
    return classes


def java_v1_error(boto_name: str, code: str, message: str, status: int, request_id: str,
                  query_code: str | None = None) -> tuple[str, str]:
    """(error, cause) of a service error as a Task state reports it. `query_code` is the shape name a
    query-compatible JSON service (SQS) answers besides its legacy code ("QueueDoesNotExist" for
    "AWS.SimpleQueueService.NonExistentQueue")."""
    service = service_of(boto_name)
    classes = _exception_classes(boto_name)
    exception = classes.get(code) or classes.get(query_code or "") or service.base_exception
    cause = (f"{message} (Service: {service.service_name}; Status Code: {status}; Error Code: {code}; "
             f"Request ID: {request_id}; Proxy: null)")
    return f"{service.prefix}.{exception}", cause


def aws_request_id(boto_name: str, simulator_request_id: str) -> str:
    """The request id in AWS's form for the service (a UUID for SQS, SNS and Step Functions), derived from
    the simulator's so that it is as reproducible as the simulator's ids."""
    if service_of(boto_name).uuid_request_ids:
        return str(uuid.uuid5(uuid.NAMESPACE_OID, simulator_request_id))
    return simulator_request_id


def _java_double(seconds: float) -> str:
    """An epoch-seconds timestamp as AWS's JSON services write it: Java's `Double.toString`, scientific
    from 10^7 up (`1.712345678901E9`)."""
    if 1e-3 <= abs(seconds) < 1e7:
        return repr(seconds)
    _, numerals, exponent = decimal.Decimal(repr(seconds)).normalize().as_tuple()
    mantissa = "".join(map(str, numerals))
    return f"{'-' if seconds < 0 else ''}{mantissa[0]}.{mantissa[1:] or '0'}E{len(numerals) - 1 + int(exponent)}"


def _json_body(result: dict[str, Any]) -> str:
    """The compact JSON body of `result`, timestamps as Java doubles, bytes as text."""
    doubles: list[str] = []

    def wire(value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            doubles.append(_java_double(round(value.timestamp(), 3)))
            return f"\0double{len(doubles) - 1}\0"
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)

    body = json.dumps(result, separators=(",", ":"), default=wire)
    for index, text in enumerate(doubles):
        body = body.replace(f'"\\u0000double{index}\\u0000"', text)
    return body


def _query_body(action: str, result: dict[str, Any], request_id: str) -> str:
    """The XML an AWS query-protocol service (SNS) answers with, laid out as AWS lays it out."""
    fields = "".join(f"    <{key}>{value}</{key}>\n" for key, value in result.items() if not isinstance(value, dict | list))
    return (f'<{action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">\n'
            f"  <{action}Result>\n{fields}  </{action}Result>\n"
            f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n"
            f"</{action}Response>\n")


def sdk_metadata(boto_name: str, operation: str, result: dict[str, Any], request_id: str, status: int,
                 now_s: float) -> dict[str, Any]:
    """`{"SdkHttpMetadata": …, "SdkResponseMetadata": …}` for a successful call: the headers AWS sends
    for the service, with the length of AWS's body for `result` (the response without ResponseMetadata)
    and the date `now_s` (simulator time)."""
    service = service_of(boto_name)
    body = _query_body(operation, result, request_id) if service.content_type == "text/xml" else _json_body(result)
    length = str(len(body.encode("utf-8")))
    date = email.utils.formatdate(now_s, usegmt=True)
    # AllHttpHeaders keeps the SDK's hash-map order, HttpHeaders is sorted case-insensitively (a TreeMap).
    if boto_name == "dynamodb":
        crc = [str(zlib.crc32(body.encode("utf-8")))]
        if operation == "GetItem":  # recorded: GetItem's answer spells the request-id header in lower case
            all_headers: dict[str, list[str]] = {
                "Server": ["Server"], "x-amzn-requestid": [request_id], "Connection": ["keep-alive"],
                "x-amz-crc32": crc, "Content-Length": [length], "Date": [date], "Content-Type": [service.content_type]}
        else:
            all_headers = {
                "Server": ["Server"], "Connection": ["keep-alive"], "x-amzn-RequestId": [request_id],
                "x-amz-crc32": crc, "Content-Length": [length], "Date": [date], "Content-Type": [service.content_type]}
    else:
        all_headers = {"x-amzn-RequestId": [request_id], "connection": ["keep-alive"], "Content-Length": [length],
                       "Date": [date], "Content-Type": [service.content_type]}
    headers = {key: values[0] for key, values in sorted(all_headers.items(), key=lambda kv: kv[0].lower())}
    return {
        "SdkHttpMetadata": {"AllHttpHeaders": all_headers, "HttpHeaders": headers, "HttpStatusCode": status},
        "SdkResponseMetadata": {"RequestId": request_id},
    }
