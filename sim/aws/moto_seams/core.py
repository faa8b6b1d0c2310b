"""Every moto internal stepbricks touches, in one place, pinned to one moto version.

moto's public surface (the server, the `/moto-api` endpoints) does not cover what stepbricks needs:
a real Lambda runtime instead of Docker, AWS-shaped function errors, asynchronous S3 → Lambda
notifications with full event records, an SNS outbox with timestamps, and Lambda logs in CloudWatch
Logs. Each patch below names the AWS behaviour it restores. `SEAMS` lists the attributes with their
expected signatures; tests/sim/aws/test_moto_seams.py fails loudly when a moto upgrade moves one.
"""

from __future__ import annotations

import contextvars
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import moto

MOTO_VERSION = "5.2.5"
if moto.__version__ != MOTO_VERSION:  # pragma: no cover - exercised by hand on upgrades
    raise ImportError(
        f"sim.aws patches moto {MOTO_VERSION} internals but moto {moto.__version__} is installed: "
        f"install moto[server,stepfunctions]=={MOTO_VERSION}, or re-check every seam in "
        f"sim/aws/moto_seams/ against the new version and update MOTO_VERSION"
    )

from moto import settings as moto_settings  # noqa: E402
from moto.awslambda.exceptions import LambdaClientError  # noqa: E402
from moto.awslambda.models import LambdaFunction  # noqa: E402
from moto.awslambda.responses import LambdaResponse  # noqa: E402
from moto.awslambda.utils import get_backend as _lambda_backend  # noqa: E402
from moto.core.base_backend import BaseBackend  # noqa: E402
from moto.core.responses import BaseResponse  # noqa: E402
from moto.logs.models import LogsBackend, logs_backends  # noqa: E402
from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # noqa: E402
from moto.s3 import notifications as s3_notifications  # noqa: E402
from moto.s3.models import FakeKey, S3Backend  # noqa: E402
from moto.sns.models import Topic  # noqa: E402
from moto.utilities.aws_headers import amz_crc32  # noqa: E402

from sim import clock  # noqa: E402
from sim.aws.lambda_runtime.models import FunctionConfig, LogEvent, TooManyRequests  # noqa: E402
from sim.aws.lambda_runtime.runtime import LambdaRuntime  # noqa: E402
from sim.aws.s3_events import S3Delivery, S3Object, event_record  # noqa: E402

__all__ = ["MOTO_VERSION", "SEAMS", "Seam", "SeamHost", "ThreadedMotoServer", "deliver_lambda_logs", "install",
           "register", "uninstall"]


@dataclass(frozen=True)
class Seam:
    """One row of the seam table: a moto attribute stepbricks replaces or relies on, the parameters it must
    keep, the AWS behaviour the row restores, and the test that fails without it (`proved_by`, a pytest
    node id; tests/sim/aws/test_moto_seams.py checks that it exists, docs/contracts.md lists them all)."""

    owner: Any
    name: str
    parameters: tuple[str, ...]
    restores: str
    proved_by: str = ""
    adds: bool = False  # an action moto lacks: the row adds it (checked to be still missing from moto)

    @property
    def target(self) -> str:
        """`module.Class.attribute` (or `module.attribute`) as moto ships it."""
        if inspect.ismodule(self.owner):
            return f"{self.owner.__name__}.{self.name}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


@dataclass(eq=False)
class SeamHost:
    """The running simulator the patches report to (moto's backends are process-global)."""

    runtime: LambdaRuntime
    on_s3_delivery: Callable[[S3Delivery], None]
    on_sns_publish: Callable[[dict[str, Any]], None]
    # The simulator's context and moto port: with two simulators running, a request is served by the one
    # whose context the handling thread works for (its server binds it), not by the newest.
    context: Any = None
    port: int = 0
    account_id: str = "123456789012"  # the moto account this simulator's AWS state lives in
    enforce_iam: bool = False  # evaluate IAM policies on every request this simulator serves (`iam` seams)
    auxiliary: bool = False  # a helper server (the TestState fixture's): never the one that seeds moto's ids
    # Seam state that is this simulator's own (EventBridge's scheduler), made on first use, closed at stop.
    _parts: dict[str, tuple[Any, Callable[[Any], None] | None]] = field(default_factory=dict, repr=False)

    def part(self, key: str, make: Callable[[], Any], close: Callable[[Any], None] | None = None) -> Any:
        """This simulator's `key` part, made by `make()` the first time; `close(part)` runs when it stops."""
        with _lock:
            if key not in self._parts:
                self._parts[key] = (make(), close)
            return self._parts[key][0]

    def part_if_any(self, key: str) -> Any:
        with _lock:
            made = self._parts.get(key)
        return None if made is None else made[0]

    def close_parts(self) -> None:
        with _lock:
            parts, self._parts = list(self._parts.values()), {}
        for part, close in parts:
            if close is not None:
                close(part)


class TooManyRequestsException(LambdaClientError):
    """Invoke's throttling error: HTTP 429 with AWS's body (botocore lambda service-2.json shape)."""

    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps({
            "__type": "TooManyRequestsException",
            "message": "Rate Exceeded.",
            "Reason": TooManyRequests.reason,
            "Type": "User",
        })


_hosts: list[SeamHost] = []
_lock = threading.Lock()
_originals: dict[tuple[Any, str], Any] = {}
_installed = False
# Seam groups loaded when their moto module is first imported (`defer`), by moto module name.
_deferred: dict[str, Callable[[], None]] = {}


def host_of_account(account_id: str) -> SeamHost:
    """The running simulator whose AWS state lives in `account_id` (moto's backends know their account)."""
    with _lock:
        host = next((h for h in reversed(_hosts) if h.account_id == account_id), None)
    return host if host is not None else _host()


# The simulator whose server received the request the calling thread serves (or that started it: threads
# carry it, see `sim.context.Thread`). Several simulators may share one context (bare `AwsSimulator`s in a
# test's context), so the port that received a request, not the context, says which one serves it.
_serving: contextvars.ContextVar[SeamHost | None] = contextvars.ContextVar("stepbricks_seam_host", default=None)


def serving(host: SeamHost, app: Callable[..., Any]) -> Callable[..., Any]:
    """`app` (a simulator's WSGI app) with every request it serves routed to `host`'s seams."""

    def served_by_host(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        token = _serving.set(host)
        try:
            return app(environ, start_response)
        finally:
            _serving.reset(token)

    return served_by_host


def _host() -> SeamHost:
    """The request's simulator; for a thread serving none, the newest simulator of its context, preferring
    real ones to auxiliary servers (a TestState server never takes a flight's S3 events or integrations)."""
    from sim import context

    host = _serving.get()
    ctx = context.current()
    with _lock:
        if host is not None and host in _hosts:
            return host
        if not _hosts:
            raise RuntimeError("no stepbricks AwsSimulator is running in this process")
        ranked = [h for h in _hosts if h.auxiliary] + [h for h in _hosts if not h.auxiliary]
        return next((h for h in reversed(ranked) if h.context is ctx), ranked[-1])


def current_host() -> SeamHost | None:
    """The simulator the calling thread works for, or None when no simulator runs."""
    with _lock:
        hosted = bool(_hosts)
    return _host() if hosted else None


def host_for_account(account_id: str) -> SeamHost | None:
    """The simulator serving `account_id` (each simulator of the process has its own account)."""
    with _lock:
        return next((h for h in reversed(_hosts) if h.account_id == account_id), None)


def moto_server_port() -> str:
    """The port of the simulator the calling thread works for: Step Functions' interpreter calls Lambda and
    the other services back on `localhost:<port>`, and with two simulators `$MOTO_PORT` names only one."""
    with _lock:
        hosted = bool(_hosts)
        ports = {str(h.port) for h in _hosts}
    if not hosted:
        return moto_settings.moto_server_port()
    if _serving.get() is None and moto_settings.moto_server_port() not in ports:
        # A request to a plain moto server (a test's own, named by $MOTO_PORT) that no simulator received:
        # its executions call back that server, not a simulator that happens to run beside it.
        return moto_settings.moto_server_port()
    return str(_host().port)


# -- Lambda ------------------------------------------------------------------------------------------

def function_config(fn: LambdaFunction) -> FunctionConfig:
    """The runtime's view of a moto function version."""
    retries = 2
    for config in fn.event_invoke_config:
        retries = int(config.config.get("MaximumRetryAttempts", retries))
    reserved = fn.reserved_concurrency
    return FunctionConfig(
        name=fn.function_name,
        version=str(fn.version),
        arn=fn.function_arn,
        handler=fn.handler or "",
        runtime=fn.run_time or "",
        timeout_s=float(fn.timeout),
        memory_mb=int(fn.memory_size),
        region=fn.region,
        account_id=fn.account_id,
        code_sha256=fn.code_digest,
        environment=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
        reserved_concurrency=None if reserved is None else int(reserved),
        max_async_retries=retries,
        role=str(fn.role or ""),
    )


def _header(headers: Any, name: str, default: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return default


def _lambda_invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> bytes:
    """Replaces `LambdaFunction.invoke` (moto's Docker path, `_invoke_lambda`).

    Restores: the handler really runs from its zip (local runtime); uncaught errors are
    `X-Amz-Function-Error: Unhandled` with `{"errorMessage","errorType","stackTrace"}` (moto says
    `Handled`); `InvocationType=Event` returns at once and runs asynchronously with AWS's retries;
    reserved concurrency throttles with 429 TooManyRequestsException; LogResult is the last 4 KB of
    the invocation's log.
    """
    runtime = _host().runtime
    config = function_config(self)
    payload = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    invocation_type = _header(request_headers, "x-amz-invocation-type", "RequestResponse")
    response_headers["x-amz-executed-version"] = config.version
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        runtime.invoke_async(config, lambda: self.code_bytes, payload)
        return b""
    try:
        result = runtime.invoke(config, lambda: self.code_bytes, payload)
    except TooManyRequests as exc:
        raise TooManyRequestsException() from exc
    # Lambda answers with the invocation's own request id (the handler's context.aws_request_id).
    response_headers["x-amzn-requestid"] = result.request_id
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-log-result"] = result.log_result()  # moto drops it unless LogType=Tail
    return result.payload


@amz_crc32
def _lambda_invoke_response(self: LambdaResponse) -> tuple[int, dict[str, str], str | bytes]:
    """Replaces `LambdaResponse.invoke` (the Invoke action), keeping moto's status codes and headers.

    Restores: Lambda's 6 MB response limit as AWS applies it, to the payload's length (6291556 bytes,
    enforced with AWS's error by the runtime, `MAX_RESPONSE_BYTES`); moto failed every payload whose
    `sys.getsizeof` passed 6,000,000 bytes, with its own spacing.
    """
    response_headers: dict[str, str] = {}
    function_name = unquote(self.path.rsplit("/", 2)[-2])  # URL-decoded in case it is an ARN
    payload = self.backend.invoke(function_name, self._get_param("qualifier"), self.body, self.headers,
                                  response_headers)
    if payload is None:
        return 404, response_headers, "{}"
    response_headers["content-type"] = "application/json"
    invocation_type = self.headers.get("X-Amz-Invocation-Type")
    if invocation_type in ("Event", "DryRun"):
        status = 202 if invocation_type == "Event" else 204
        response_headers["status"] = str(status)
        return status, response_headers, payload
    if self.headers.get("X-Amz-Log-Type") != "Tail":
        response_headers.pop("x-amz-log-result", None)
    return 200, response_headers, payload


def _lambda_enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """Wraps `BaseResponse._enrich_response` for Lambda's responses (a staticmethod on LambdaResponse).

    Restores: Invoke answers with the invocation's own request id in `x-amzn-RequestId` (the handler's
    `context.aws_request_id`, the `requestId` of an error payload), which moto replaced by a random one.
    """
    kept = headers.get("x-amzn-requestid")
    headers, body = BaseResponse._enrich_response(headers, body)
    if kept:
        headers["x-amzn-requestid"] = kept
    return headers, body


def deliver_lambda_logs(config: FunctionConfig, log_stream: str, events: list[LogEvent]) -> None:
    """Writes a function's log lines to CloudWatch Logs group `/aws/lambda/<name>`, as Lambda does."""
    backend = logs_backends[config.account_id][config.region]
    backend.ensure_log_group(config.log_group)
    if log_stream not in backend.groups[config.log_group].streams:
        backend.create_log_stream(config.log_group, log_stream)
    backend.put_log_events(config.log_group, log_stream,
                           [{"timestamp": e.timestamp_ms, "message": e.message} for e in events])


# -- S3 notifications ------------------------------------------------------------------------------

def _s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    """Replaces `s3.notifications._get_s3_event`.

    Restores: the full S3 event record (userIdentity, requestParameters, responseElements, sequencer,
    versionId) and S3's key encoding, which keeps `/` (moto's `quote_plus` turns it into %2F).
    """
    obj = S3Object(bucket=bucket.name, region=bucket.region_name, key=key.name, size=key.size,
                   etag=key.etag, version_id=getattr(key, "_version_id", None))
    return {"Records": [event_record(str(getattr(event_name, "value", event_name)), obj, notification_id, account_id=bucket.account_id)]}


def _s3_invoke_lambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    """Replaces `s3.notifications._invoke_awslambda`.

    Restores: S3 invokes the function asynchronously (InvocationType=Event), so PutObject returns at
    once, and a failing function is retried twice as for any async invocation. moto invoked it
    synchronously inside PutObject and swallowed every error. Each delivery is recorded. With IAM
    enforced, S3 invokes only as the function's policy allows (`iam_s3_triggers`).
    """
    host = _host()
    record = event_body["Records"][0]
    delivery = S3Delivery(bucket=record["s3"]["bucket"]["name"], key=record["s3"]["object"]["key"],
                          event_name=record["eventName"], function_arn=fn_arn, event=event_body)
    try:
        fn = _lambda_backend(account_id, region_name).get_function(fn_arn)
    except Exception:  # AWS drops events for a function that does not exist (any longer)
        delivery.attempts.append("function-not-found")
        delivery.done = True
        host.on_s3_delivery(delivery)
        return
    if host.enforce_iam:
        from sim.aws.moto_seams.iam_s3_triggers import s3_may_invoke  # imports this module

        if not s3_may_invoke(fn_arn, delivery.bucket, account_id):
            delivery.attempts.append("not-authorized")  # the function's policy no longer lets S3 invoke it
            delivery.done = True
            host.on_s3_delivery(delivery)
            return

    def settled(results: list[Any]) -> None:
        delivery.attempts.extend(result.status for result in results)
        delivery.done = True

    host.on_s3_delivery(delivery)
    delivery.request_id = host.runtime.invoke_async(
        function_config(fn), lambda: fn.code_bytes, json.dumps(event_body).encode("utf-8"), on_done=settled
    )


# -- SNS ---------------------------------------------------------------------------------------------

def _topic_publish(self: Topic, message: str, subject: str | None = None,
                   message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
                   deduplication_id: str | None = None, message_structure: str | None = None) -> str:
    """Wraps `sns.models.Topic.publish`.

    Restores: an observable outbox. AWS delivers to subscribers only; tests need to read what was
    published, with the time it was published (moto's `sent_notifications` keeps no timestamp).
    """
    original = _originals[(Topic, "publish")]
    message_id = original(self, message, subject=subject, message_attributes=message_attributes,
                          group_id=group_id, deduplication_id=deduplication_id,
                          message_structure=message_structure)
    with _lock:
        hosts = list(_hosts)
    for host in hosts:
        host.on_sns_publish({
            "topic_arn": self.arn,
            "message_id": message_id,
            "subject": subject,
            "message": message,
            "attributes": dict(message_attributes or {}),
            "timestamp": clock.get().utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        })
    return message_id


# -- registry ------------------------------------------------------------------------------------------

_PATCHES: list[tuple[Any, str, Any]] = [
    (LambdaFunction, "invoke", _lambda_invoke),
    (LambdaResponse, "invoke", _lambda_invoke_response),
    (LambdaResponse, "_enrich_response", staticmethod(_lambda_enrich_response)),
    (s3_notifications, "_get_s3_event", _s3_event),
    (s3_notifications, "_invoke_awslambda", _s3_invoke_lambda),
    (Topic, "publish", _topic_publish),
]

SEAMS: list[Seam] = [
    Seam(LambdaFunction, "invoke", ("self", "body", "request_headers", "response_headers"),
         _lambda_invoke.__doc__ or "",
         proved_by="tests/sim/aws/test_lambda_runtime.py::test_custom_exception_becomes_unhandled_function_error_with_its_error_type"),
    Seam(LambdaResponse, "invoke", ("self",), _lambda_invoke_response.__doc__ or "",
         proved_by="tests/sim/aws/lambda_runtime/test_managed_environment.py::test_response_over_6_mb_fails_as_response_size_too_large"),
    Seam(LambdaResponse, "_enrich_response", ("headers", "body"), _lambda_enrich_response.__doc__ or "",
         proved_by="tests/sim/aws/sfn/test_lambda_tasks.py::test_lambda_invoke_result_carries_aws_metadata"),
    Seam(s3_notifications, "_get_s3_event", ("event_name", "bucket", "key", "notification_id"),
         _s3_event.__doc__ or "",
         proved_by="tests/sim/aws/test_s3_notifications.py::test_matching_upload_invokes_the_function_with_a_well_formed_s3_event"),
    Seam(s3_notifications, "_invoke_awslambda", ("account_id", "event_body", "fn_arn", "region_name"),
         _s3_invoke_lambda.__doc__ or "",
         proved_by="tests/sim/aws/test_s3_notifications.py::test_put_object_returns_before_a_slow_function_finishes"),
    Seam(Topic, "publish", ("self", "message", "subject", "message_attributes", "group_id",
                            "deduplication_id", "message_structure"), _topic_publish.__doc__ or "",
         proved_by="tests/sim/aws/test_sns_outbox.py::test_published_messages_are_captured_per_topic_with_subject_attributes_and_time"),
    Seam(LogsBackend, "put_log_events",
         ("self", "log_group_name", "log_stream_name", "log_events"), deliver_lambda_logs.__doc__ or "",
         proved_by="tests/sim/aws/test_lambda_runtime.py::test_lambda_logs_are_delivered_to_cloudwatch_logs_as_aws_does"),
    Seam(S3Backend, "reset", ("self",),
         "relied on, not replaced: it closes every S3 object of the process, so `reset_account` (one "
         "simulator's stop beside others) disposes only that account's objects and skips it",
         proved_by="tests/sim/aws/test_aws_simulator.py::test_a_simulator_stopping_beside_another_leaves_its_s3_objects_readable"),
    Seam(ThreadedMotoServer, "__init__", ("self", "ip_address", "port", "verbose"),
         "the in-process server; Step Functions' interpreter calls it back on localhost:$MOTO_PORT",
         proved_by="tests/sim/aws/test_aws_simulator.py::test_endpoint_is_on_loopback_with_dummy_credentials_in_the_environment"),
]


def register(patches: list[tuple[Any, str, Any]], seams: list[Seam]) -> None:
    """Add a sibling module's patches and their seams (tested) to the table. A module loaded while a
    simulator runs (a deferred group, see `defer`) has its rows applied at once, like the rest."""
    with _lock:
        _PATCHES.extend(patches)
        SEAMS.extend(seams)
        if _installed:
            _apply(patches)


_MISSING = object()  # an action moto lacks: the row adds it, and uninstall removes it again


def defer(moto_module: str, load: Callable[[], None]) -> None:
    """Declare a group of seam modules that patch only `moto_module` and what it imports: `load` imports
    them once that module is imported (by moto's server, on the first request for the service), so a
    process that never uses the service never pays for importing it. The group's rows then join the
    table and are installed and removed with it. Declaring changes nothing until a simulator starts."""
    with _lock:
        _deferred[moto_module] = load


def _arm_deferred() -> None:
    """Load each deferred group whose moto module is already imported; hook the others' imports."""
    import wrapt

    with _lock:
        pending = list(_deferred.items())
        _deferred.clear()
    for moto_module, load in pending:
        # wrapt runs the hook at once when the module is already imported, else right after moto's
        # module body has run, still under its import lock: no request can use it unpatched.
        wrapt.register_post_import_hook(lambda _module, load=load: load(), moto_module)


def _apply(patches: list[tuple[Any, str, Any]]) -> None:
    for owner, name, replacement in patches:
        # getattr_static keeps a staticmethod a staticmethod when it is put back on uninstall.
        _originals[(owner, name)] = inspect.getattr_static(owner, name, _MISSING)
        setattr(owner, name, replacement)


def shipped_by_moto(seam: Seam) -> bool:
    """Whether moto itself has the row's attribute (installed or not): an `adds` row expects it not to."""
    original = _originals.get((seam.owner, seam.name), inspect.getattr_static(seam.owner, seam.name, _MISSING))
    return original is not _MISSING


def signature_of(seam: Seam) -> tuple[str, ...]:
    """The parameter names of the attribute as moto ships it (the original, even while patched)."""
    # getattr_static either way: a class method is checked with its `cls` whether or not the table is installed.
    target = _originals.get((seam.owner, seam.name), inspect.getattr_static(seam.owner, seam.name, None))
    if isinstance(target, staticmethod | classmethod):
        target = target.__func__
    if target is None or not callable(target):
        return ()
    return tuple(inspect.signature(target).parameters)


def install(host: SeamHost) -> None:
    """The first running simulator installs every row (and arms the deferred groups); later ones only
    register as hosts."""
    global _installed
    from sim.aws.moto_seams import s3_namespace

    s3_namespace.install()
    with _lock:
        first = not _installed
        if first:
            _apply(_PATCHES)
            _installed = True
        _hosts.append(host)
    if first:
        _arm_deferred()


def uninstall(host: SeamHost) -> None:
    """Forget `host`; the last one out restores moto as it was (added actions removed)."""
    global _installed
    with _lock:
        if host in _hosts:
            _hosts.remove(host)
    host.close_parts()  # outside the lock: a part may wait for a thread that still reads the table
    with _lock:
        if not _hosts and _installed:
            for (owner, name), original in _originals.items():
                if original is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)
            _originals.clear()
            _installed = False


def patches() -> list[tuple[Any, str, Any]]:
    """Every row of the table: (moto owner, attribute, what stepbricks puts there while a simulator runs)."""
    with _lock:
        return list(_PATCHES)


def left_installed() -> list[str]:
    """Rows whose replacement is still on moto although no simulator runs (a leak; [] when all is well)."""
    with _lock:
        if _hosts:
            return []
        return [f"{getattr(owner, '__name__', owner)}.{name}" for owner, name, replacement in _PATCHES
                if inspect.getattr_static(owner, name, _MISSING) is replacement]


# Instance attributes of `LambdaFunction` that `function_config` and the invoke patch read.
FUNCTION_ATTRIBUTES = ("function_name", "version", "function_arn", "handler", "run_time", "timeout",
                       "memory_size", "region", "account_id", "code_bytes", "code_digest", "environment_vars",
                       "reserved_concurrency", "event_invoke_config", "role")


def wrap_server_app(server: ThreadedMotoServer, wrap: Callable[[Any], Any]) -> None:
    """Put `wrap(app)` in front of a started server's WSGI app (moto keeps the werkzeug server private)."""
    werkzeug_server = server._server
    if werkzeug_server is None:
        raise RuntimeError("start the server before wrapping its app")
    werkzeug_server.app = wrap(werkzeug_server.app)


def running_hosts() -> int:
    with _lock:
        return len(_hosts)


def seeding_hosts() -> int:
    """The running simulators that take part in seeding moto's process-wide id stream (auxiliary ones do not)."""
    with _lock:
        return sum(1 for host in _hosts if not host.auxiliary)


def accounts_in_use() -> set[str]:
    """The moto accounts of the simulators running in this process (a new one takes another)."""
    with _lock:
        return {host.account_id for host in _hosts}


def reset_account(account_id: str) -> None:
    """Drop one account's state from every loaded moto backend (moto's own reset drops every account's):
    a simulator that stops while others run leaves nothing behind for the next one in its account."""
    from moto.core.base_backend import BackendDict, backend_lock

    with backend_lock:
        for backends in list(BackendDict._instances):  # moto's own reset walks the same list
            account = dict.get(backends, account_id)  # never creates one (BackendDict.__getitem__ would)
            for backend in list((account or {}).values()):
                if isinstance(backend, S3Backend):
                    _reset_s3(backend)
                else:
                    backend.reset()


def _reset_s3(backend: S3Backend) -> None:
    """`S3Backend.reset` for one account: moto's closes the buffer of every S3 object of the process
    (`FakeKey.instances_tracked`), so a simulator stopping beside others broke their GetObject with
    "I/O operation on closed file" (a 500). Only this account's own objects are closed here."""
    from sim.aws.moto_seams import s3_namespace  # it imports this module

    for bucket in [*backend.buckets.values(), *backend.table_buckets.values()]:
        for key in bucket.keys.values():
            if isinstance(key, FakeKey):
                key.dispose()
        for part in bucket.multiparts.values():
            part.dispose()
        s3_namespace.forget(bucket.name, backend.account_id)
    BaseBackend.reset(backend)


__all__ += [
    "FUNCTION_ATTRIBUTES",
    "TooManyRequestsException",
    "accounts_in_use",
    "function_config",
    "reset_account",
    "running_hosts",
    "serving",
    "wrap_server_app",
]
