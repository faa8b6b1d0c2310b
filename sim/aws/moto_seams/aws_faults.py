"""Every AWS API call through moto's server: an actor for the virtual clock, and a place for `aws` faults.

`plan.add("aws", "s3", detail="PutObject", attempts=2, throttle=True)` makes the 2nd PutObject answer
`SlowDown` 503 as S3 does (the shape per protocol is in `sim.faults.aws_errors`). The target name is the
service's signing name from the request's SigV4 credential scope (`s3`, `lambda`, `states`, `sns`,
`secretsmanager`, …); the detail is the botocore operation name, read from `X-Amz-Target` (JSON
protocols), `Action` (query protocol) or matched against the service model's `requestUri` templates
(REST protocols). Calls the Step Functions interpreter makes count too (they are real API calls on AWS).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import botocore.session
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from sim import boto_clients, clock, faults
from sim.aws.moto_seams.core import Seam, register
from sim.faults.aws_errors import error_for

__all__ = ["identify", "protocol"]

_original_call = DomainDispatcherApplication.__call__
_CREDENTIAL = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_MODEL_NAMES = {"states": "stepfunctions", "monitoring": "cloudwatch", "email": "ses"}
_session_lock = threading.Lock()
_session = botocore.session.get_session()
_session.register_component("data_loader", boto_clients.shared_loader())  # a model parsed once per process


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: frozenset[str]  # query keys that must be present
    headers: frozenset[str]  # headers (lower case) that must be present
    score: int


@functools.lru_cache(maxsize=64)
def _model(signing_name: str) -> tuple[str, tuple[_Route, ...]] | None:
    """(protocol, routes) of a service, from botocore's model (cached)."""
    with _session_lock:
        try:
            model = _session.get_service_model(_MODEL_NAMES.get(signing_name, signing_name))
        except Exception:
            return None
    protocol = model.metadata.get("protocol", "json")
    routes: list[_Route] = []
    if protocol.startswith("rest"):
        for name in model.operation_names:
            operation = model.operation_model(name)
            uri = operation.http.get("requestUri", "/")
            path_part, _, query_part = uri.partition("?")
            pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\+\\\}", ".+", re.escape(path_part))
            pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", "[^/]+", pattern)
            query = {kv.split("=", 1)[0] for kv in query_part.split("&") if kv}
            headers: set[str] = set()
            shape = operation.input_shape
            for member_name, member in (shape.members.items() if shape is not None else []):
                if member_name not in (shape.required_members if shape is not None else []):
                    continue
                location = member.serialization.get("location")
                if location == "querystring":
                    query.add(member.serialization.get("name", member_name))
                elif location == "header":
                    headers.add(member.serialization.get("name", member_name).lower())
            literal = len(re.sub(r"\{[^}]+\}", "", path_part))
            routes.append(_Route(name, operation.http.get("method", "POST"), re.compile(f"^{pattern}/?$"),
                                 frozenset(query), frozenset(headers), literal + 100 * (len(query) + len(headers))))
    return protocol, tuple(routes)


def protocol(signing_name: str) -> str | None:
    """The wire protocol (`json`, `rest-json`, `query`, `rest-xml`) of a service, by its signing name."""
    described = _model(signing_name)
    return described[0] if described else None


def identify(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(signing name, operation, protocol) of a signed AWS request, or None when it cannot be told."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return None
    service = match.group(1)
    described = _model(service)
    if described is None:
        return None
    protocol, routes = described
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1], protocol
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "x-id" in query:  # botocore names some S3 operations in the query string itself
        return service, query["x-id"][0], protocol
    if protocol == "query":
        action = query.get("Action", [None])[0] or _form_action(environ)
        return (service, action, protocol) if action else None
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
    best: _Route | None = None
    for route in routes:
        if route.method != method or not route.path.match(path):
            continue
        if not route.query <= set(query) or any(f"HTTP_{h.upper().replace('-', '_')}" not in environ
                                                 for h in route.headers):
            continue
        if best is None or route.score > best.score:
            best = route
    return (service, best.operation, protocol) if best else None


def _form_action(environ: dict[str, Any]) -> str | None:
    """The query protocol's `Action` from a form body, leaving the body readable for moto."""
    import io

    length = int(environ.get("CONTENT_LENGTH") or 0)
    if not length:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]


_LOAN_KEY = "HTTP_" + clock.LOAN_HEADER.upper().replace("-", "_")


def _dispatch(self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Wraps `DomainDispatcherApplication.__call__` (moto's WSGI entry point).

    Restores: an API call is real work, so the virtual clock does not skip while one is served; and the
    active fault plan's `aws` faults answer the nth call of an operation with the error AWS would send
    (SlowDown 503, 500, throttling), shaped for the service's protocol so boto3 sees the real error code.
    A request from an execution of this simulator serves in its stead (`clock.borrow`): the execution
    only waits for it, so a Lambda waiting on the clock lets virtual time move."""
    with clock.busy(), clock.borrow(environ.get(_LOAN_KEY)):
        plan = faults.active()
        if any(f.target.kind == "aws" for f in plan.faults):
            request = identify(environ)
            if request is not None:
                service, operation, protocol = request
                effect = plan.take("aws", service, operation)
                if effect is not None:
                    error = error_for(effect.values, service=service, protocol=protocol)
                    start_response(error.status_line, [*error.headers, ("Content-Length", str(len(error.body)))])
                    return [error.body]
        return _original_call(self, environ, start_response)


register(
    [(DomainDispatcherApplication, "__call__", _dispatch)],
    [Seam(DomainDispatcherApplication, "__call__", ("self", "environ", "start_response"), _dispatch.__doc__ or "",
          proved_by="tests/sim/faults/test_aws_faults.py::test_the_second_s3_put_object_is_slow_down_503_and_the_third_succeeds")],
)
