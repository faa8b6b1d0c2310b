"""AWS API errors as each protocol puts them on the wire, so boto3 parses an injected fault exactly as it
parses the real one (botocore/parsers.py: RestXMLParser, QueryParser, JSONParser, RestJSONParser).

- rest-xml (S3): `<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId><HostId>…</HostId></Error>`
- query (SNS, IAM, STS): `<ErrorResponse><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…</Message>
  </Error><RequestId>…</RequestId></ErrorResponse>`
- json (Step Functions, Secrets Manager, Logs): `{"__type": "…", "message": "…"}`
- rest-json (Lambda): header `X-Amzn-ErrorType` and `{"Type": "User|Service", "message": "…"}`
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from sim import context as sim_context

__all__ = ["WireError", "error_for"]

# Throttling as each service says it (S3: SlowDown 503; Lambda: TooManyRequestsException 429; query
# services: Throttling 400; JSON services: ThrottlingException 400).
_THROTTLE = {"s3": ("SlowDown", 503, "Please reduce your request rate."),
             "lambda": ("TooManyRequestsException", 429, "Rate exceeded")}
_THROTTLE_BY_PROTOCOL = {"query": ("Throttling", 400, "Rate exceeded"),
                         "json": ("ThrottlingException", 400, "Rate exceeded"),
                         "rest-json": ("ThrottlingException", 429, "Rate exceeded"),
                         "rest-xml": ("SlowDown", 503, "Please reduce your request rate.")}
# What a bare 500 / 503 is called.
_SERVER = {("s3", 500): ("InternalError", "We encountered an internal error. Please try again."),
           ("s3", 503): ("ServiceUnavailable", "Service is unable to handle request."),
           ("lambda", 500): ("ServiceException", "The AWS Lambda service encountered an internal error.")}
_SERVER_DEFAULT = {500: ("InternalFailure", "The request processing has failed because of an unknown error."),
                   503: ("ServiceUnavailable", "The request has failed due to a temporary failure of the server.")}
_STATUS_OF = {"SlowDown": 503, "ServiceUnavailable": 503, "InternalError": 500, "InternalFailure": 500,
              "ServiceException": 500, "Throttling": 400, "ThrottlingException": 400,
              "TooManyRequestsException": 429, "RequestLimitExceeded": 503}
_REASONS = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True)
class WireError:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_line(self) -> str:
        return f"{self.status} {_REASONS.get(self.status, 'Error')}"


def error_for(effect: Mapping[str, Any], *, service: str, protocol: str, request_id: str | None = None) -> WireError:
    """The response for an `aws` fault effect (`throttle`, `error`, `status`, `message`) on `service`."""
    request_id = request_id or sim_context.current().ids.uuid("request")
    code, status, message = _code_status_message(effect, service, protocol)
    sender = status < 500
    if protocol == "rest-xml":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
                f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId>"
                f"<HostId>{request_id}</HostId></Error>").encode()
        return WireError(status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body)
    if protocol == "query":
        body = (f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/"><Error>'
                f"<Type>{'Sender' if sender else 'Receiver'}</Type><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>").encode()
        return WireError(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body)
    if protocol == "rest-json":
        body = json.dumps({"Type": "User" if sender else "Service", "message": message}).encode()
        return WireError(status, [("Content-Type", "application/json"), ("X-Amzn-ErrorType", code),
                                  ("x-amzn-RequestId", request_id)], body)
    body = json.dumps({"__type": code, "message": message}).encode()
    return WireError(status, [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)], body)


def _code_status_message(effect: Mapping[str, Any], service: str, protocol: str) -> tuple[str, int, str]:
    if effect.get("throttle"):
        code, status, message = _THROTTLE.get(service) or _THROTTLE_BY_PROTOCOL.get(protocol, _THROTTLE_BY_PROTOCOL["json"])
        return code, int(effect.get("status", status)), str(effect.get("message", message))
    if "error" in effect:
        code = str(effect["error"])
        status = int(effect.get("status", _STATUS_OF.get(code, 400)))
        return code, status, str(effect.get("message", f"Injected fault: {code}"))
    status = int(effect.get("status", 500))
    code, message = _SERVER.get((service, status)) or _SERVER_DEFAULT.get(status, ("InternalFailure", "Injected fault"))
    return code, status, str(effect.get("message", message))
