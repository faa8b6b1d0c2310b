"""The worker side of the local Lambda runtime: one process is one warm execution environment.

Started as `python -I -S bootstrap.py` with an explicit environment, so it sees only what the AWS
Python runtime offers: the function's code (LAMBDA_TASK_ROOT), the runtime's boto3 and its deps
(LAMBDA_RUNTIME_DIR, as /var/runtime on AWS) and the standard library. It must import nothing but the
standard library itself.

Protocol: JSON lines. stdin carries `{"type": "invoke", ...}` requests; a private duplicate of the
original stdout carries `init`, `log` and `result` messages. fd 1 is pointed at stderr so stray C-level
writes cannot corrupt the protocol. Error payloads, messages, log framing and JSON encoding copy
awslambdaric (the AWS Python runtime interface client: `bootstrap.py`, `lambda_runtime_exception.py`,
`lambda_runtime_marshaller.py`). Where the system allows it (`--aws-paths`, `_mount_as_on_aws`), the code
really is at /var/task (read-only) and the runtime layer at /var/runtime, in a mount namespace of the worker
alone; elsewhere, and for the standard library (/var/lang), the local directories appear under their AWS
names in frames, tracebacks and logs, so no path of this machine leaks out.
"""

from __future__ import annotations

import _imp
import importlib
import importlib.machinery
import io
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any, NoReturn

_send_lock = threading.Lock()
_proto_out: Any = None


def _send(message: dict[str, Any]) -> None:
    with _send_lock:
        _proto_out.write(json.dumps(message) + "\n")
        _proto_out.flush()


class _LogStream(io.TextIOBase):
    """stdout/stderr of the handler: complete lines go to the parent as they are written, local code
    directories named as on AWS (a traceback the handler logs shows `/var/task/...`, as in CloudWatch)."""

    def __init__(self) -> None:
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        if "\n" in self._partial:
            complete, self._partial = self._partial.rsplit("\n", 1)
            _send({"type": "log", "text": _as_on_aws(complete + "\n")})
        return len(text)

    def flush(self) -> None:
        if self._partial:
            _send({"type": "log", "text": _as_on_aws(self._partial + "\n")})
            self._partial = ""


class _Context:
    """The `context` argument, with awslambdaric's attribute names and types."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["request_id"]
        self.invoked_function_arn: str = request["invoked_function_arn"]
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        # awslambdaric reads it from the environment, so it is a str on AWS too.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        # Remaining time is measured from receipt on this process's monotonic clock, so the parent's
        # (possibly virtual) clock and this one never have to agree on an epoch.
        self._deadline = time.monotonic() + request["timeout_ms"] / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


# Where the code lives on AWS (Lambda developer guide, "Defined runtime environment variables":
# LAMBDA_TASK_ROOT=/var/task, LAMBDA_RUNTIME_DIR=/var/runtime; the managed Python is under /var/lang).
# Filled by main(): local directory -> AWS directory, longest first.
_AWS_PATHS: list[tuple[str, str]] = []


def _aws_paths(task_root: str, runtime_dir: str) -> list[tuple[str, str]]:
    stdlib = os.path.dirname(os.__file__)
    pairs = [(task_root, "/var/task"), (runtime_dir, "/var/runtime"),
             (stdlib, f"/var/lang/lib/python{sys.version_info[0]}.{sys.version_info[1]}")]
    # Each directory also as the OS resolves it (os.getcwd() and realpath() give that spelling).
    pairs += [(os.path.realpath(local), aws) for local, aws in pairs]
    unique = {local.rstrip("/"): aws for local, aws in pairs}
    return sorted(unique.items(), key=lambda p: len(p[0]), reverse=True)


AWS_TASK_ROOT, AWS_RUNTIME_DIR = "/var/task", "/var/runtime"
# <sched.h> and <sys/mount.h> (Linux).
_CLONE_NEWNS, _MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x20000, 1, 32, 4096, 0x4000, 1 << 18


def _mount_as_on_aws(task_root: str, runtime_dir: str) -> bool:
    """Show the code at its AWS paths for real: in a mount namespace of this process alone, the function's
    code bound read-only on /var/task (read-only on AWS too: "[Errno 30] Read-only file system") and the
    runtime layer on /var/runtime, so `__file__`, `os.getcwd()` and LAMBDA_TASK_ROOT are AWS's. Needs
    CAP_SYS_ADMIN (root, no seccomp refusal) and the two mount points (made when missing): False, with
    nothing changed that matters, where the system refuses; the code then runs from its real directory
    and `_as_on_aws` renames it in frames and logs. Must run while this process has one thread."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(_CLONE_NEWNS) != 0:
            return False
        # Private from the root down: nothing mounted here propagates back to the machine.
        if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
            return False
        for local, target, flags in ((task_root, AWS_TASK_ROOT, _MS_RDONLY), (runtime_dir, AWS_RUNTIME_DIR, 0)):
            os.makedirs(target, exist_ok=True)
            source, point = os.fsencode(local), os.fsencode(target)
            if libc.mount(source, point, None, _MS_BIND | _MS_REC, None) != 0:
                return False
            if flags and libc.mount(None, point, None, _MS_REMOUNT | _MS_BIND | flags, None) != 0:
                return False
        return True
    except (OSError, AttributeError):
        return False


def _as_on_aws(text: str) -> str:
    """`text` with every local code directory named as on AWS, so no path of this machine leaks."""
    for local, aws in _AWS_PATHS:
        text = text.replace(local + "/", aws + "/")
    return text


class _AwsPathLoader(importlib.machinery.SourceFileLoader):
    """Compiles modules from the task root, the runtime layer and the standard library with the file
    name they have on AWS, so every traceback (`traceback.format_exc()` in a handler, `logging.exception`,
    warnings) names `/var/task/app.py`. `__file__` stays the real file, so code can still open its data."""

    def get_code(self, fullname: str) -> Any:
        code = super().get_code(fullname)
        aws = _as_on_aws(self.path)
        if code is not None and aws != self.path:
            _imp._fix_co_filename(code, aws)  # what importlib does to a .pyc moved since it was written
        return code


def _install_aws_path_loader() -> None:
    """Put `_AwsPathLoader` in place of the source loader for every sys.path entry from now on."""
    machinery = importlib.machinery
    sys.path_hooks.insert(0, machinery.FileFinder.path_hook(
        (machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES),
        (_AwsPathLoader, machinery.SOURCE_SUFFIXES),
        (machinery.SourcelessFileLoader, machinery.BYTECODE_SUFFIXES),
    ))
    sys.path_importer_cache.clear()


def _error(error_type: str, message: str, request_id: str, stack: list[str] | None = None) -> dict[str, Any]:
    """awslambdaric `make_error`: the four keys in this order, empty values as "" and []."""
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack or []}


def _user_error(exc: BaseException, request_id: str) -> dict[str, Any]:
    """awslambdaric `build_fault_result`: the exception's class name, str() and the frames from the first
    one outside the runtime on, formatted from (file, line, function, text) tuples as it does (so no
    column carets), with the directories named as on AWS (`File "/var/task/app.py", line 3, in handler`)."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(exc.__traceback__)]
    for i, frame in enumerate(frames):
        if frame[0] != __file__:
            frames = frames[i:]
            break
    stack = [_as_on_aws(line) for line in traceback.format_list(frames)]
    return _error(type(exc).__name__, _as_on_aws(str(exc)), request_id, stack)


def _log_error(error: dict[str, Any]) -> None:
    """awslambdaric `log_error` (text format) through its telemetry log sink, as the managed runtime runs:
    ONE log event of `[ERROR] Type: message`, `Traceback (most recent call last):` whenever a stackTrace is
    present (even an empty one), then the trace's lines with their leading spaces as NO-BREAK SPACEs."""
    text = "[ERROR]"
    if error["errorType"]:
        text += " " + error["errorType"] + (":" if error["errorMessage"] else "")
    if error["errorMessage"]:
        text += " " + error["errorMessage"]
    lines = [text, "Traceback (most recent call last):"]
    for element in error["stackTrace"]:
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    _log_event("\n".join(lines))


def _log_event(text: str) -> None:
    """One CloudWatch log event, newlines and all (a telemetry frame), after what stdout holds so far."""
    sys.stdout.flush()
    _send({"type": "log", "text": _as_on_aws(text), "event": True})


class _LambdaLogHandler(logging.Handler):
    """awslambdaric `LambdaLoggerHandler`: each record, formatted, is one log event (a logged traceback
    stays in the event of its message)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _log_event(self.format(record))
        except Exception:
            self.handleError(record)


def _load_handler(handler: str) -> Any:
    """Import `module.function` from the task root; raises a dict payload on failure, as AWS reports it
    (awslambdaric `_get_handler`: messages name the module as the handler setting spells it)."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _InitError(_error("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}", "")) from exc
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise _InitError(_error("Runtime.BuiltInModuleConflict",
                                    f"Cannot use built-in module {modname} as a handler module", ""))
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise _InitError(
            _error("Runtime.ImportModuleError", f"Unable to import module '{modname}': {_as_on_aws(str(exc))}", "")
        ) from exc
    except SyntaxError as exc:
        trace = [f'  File "{_as_on_aws(exc.filename or "")}" Line {exc.lineno}\n    {exc.text}']
        raise _InitError(
            _error("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}", "", trace)
        ) from exc
    except _InitError:
        raise
    except Exception as exc:
        raise _InitError(_user_error(exc, "")) from exc
    try:
        return getattr(module, fname)
    except AttributeError as exc:
        raise _InitError(
            _error("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'", "")
        ) from exc


def _to_json(value: Any) -> str:
    """awslambdaric `lambda_runtime_marshaller.to_json`: simplejson's JSONEncoder defaults, which are the
    standard library's (`", "` and `": "` separators, NaN allowed), so payloads read
    `{"errorMessage": "boom", "errorType": ...}`; non-ASCII text stays unescaped only on python3.12.
    Its Encoder writes a Decimal as its own digits (`RawJSON(str(obj))`, NaN as NaN), so a handler may
    return what DynamoDB gave it: that needs the pure-Python encoder, tried only when the fast one fails."""
    ascii_only = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    try:
        return json.dumps(value, ensure_ascii=ascii_only)
    except TypeError:
        import json.encoder as encoder

        chunks = encoder._make_iterencode(  # type: ignore[attr-defined]
            {}, _decimal_default, encoder.encode_basestring_ascii if ascii_only else encoder.encode_basestring,
            None, _floatstr, ": ", ", ", False, False, True)
        return "".join(chunks(value, 0))


class _DecimalDigits(float):
    """A Decimal on its way out, written as its digits (simplejson's RawJSON)."""

    digits = ""


def _decimal_default(obj: Any) -> Any:
    import decimal
    import math

    if isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return math.nan
        number = _DecimalDigits(0.0)
        number.digits = str(obj)
        return number
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


def _floatstr(number: float) -> str:
    """json.encoder's float formatting (NaN and the infinities allowed), a Decimal as its digits."""
    if isinstance(number, _DecimalDigits):
        return number.digits
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    return float.__repr__(number)


class _Fault(Exception):
    """A failure the runtime reports itself (awslambdaric FaultException)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type, self.message = error_type, message


class _InitError(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload["errorMessage"])
        self.payload = payload


def _invoke(handler: Any, request: dict[str, Any], request_filter: _RequestIdFilter) -> dict[str, Any]:
    request_id = request["request_id"]
    request_filter.request_id = request_id
    # awslambdaric `update_xray_env_variable`: the invocation's trace header, or none.
    if request.get("trace_id"):
        os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    started = time.perf_counter()
    try:
        return _run_handler(handler, request)
    finally:
        sys.stdout.flush()
        request_filter.request_id = ""
        _last_duration[0] = (time.perf_counter() - started) * 1000.0


def _run_handler(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    """awslambdaric `handle_event_request`: unmarshal, call, marshal; any failure as its error payload."""
    request_id = request["request_id"]
    try:
        try:
            event = json.loads(request["payload"]) if request["payload"] else {}
        except ValueError as exc:
            raise _Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from exc
        result = handler(event, _Context(request))
        try:
            payload = _to_json(result)
        except Exception as exc:
            raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc
        return {"ok": True, "payload": payload}
    except _Fault as fault:
        # awslambdaric FaultException: the runtime's own error, no stack trace, the invocation's request id.
        error = _error(fault.error_type, fault.message, request_id)
    except MemoryError:
        _out_of_memory()
    except Exception as exc:
        error = _user_error(exc, request_id)
    _log_error(error)
    return {"ok": False, "payload": _to_json(error)}


def _out_of_memory() -> NoReturn:
    """Python ran out of address space (the parent's RLIMIT_AS backstop): end as Lambda ends a sandbox
    over its memory, killed, after telling the parent why."""
    _send({"type": "oom"})
    os.kill(os.getpid(), signal.SIGKILL)
    raise SystemExit(137)  # not reached


_last_duration = [0.0]


def _limit_address_space() -> None:
    """`--address-space-mb N`: a hard cap far above the function's memory, so an allocation too fast for
    the parent's memory watchdog cannot take the machine down (it raises MemoryError: `_out_of_memory`)."""
    if "--address-space-mb" in sys.argv:
        import resource

        limit = int(sys.argv[sys.argv.index("--address-space-mb") + 1]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    global _proto_out
    _limit_address_space()
    _proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    stream = _LogStream()
    sys.stdout = sys.stderr = stream

    task_root = os.environ["LAMBDA_TASK_ROOT"]
    runtime_dir = os.environ["LAMBDA_RUNTIME_DIR"]
    if "--aws-paths" in sys.argv and _mount_as_on_aws(task_root, runtime_dir):
        task_root = os.environ["LAMBDA_TASK_ROOT"] = AWS_TASK_ROOT
        runtime_dir = os.environ["LAMBDA_RUNTIME_DIR"] = AWS_RUNTIME_DIR
    sys.path[:0] = [task_root, runtime_dir]
    _AWS_PATHS[:] = _aws_paths(task_root, runtime_dir)
    _install_aws_path_loader()
    os.chdir(task_root)

    # The AWS Python runtime's root logger: a handler in this format, level WARNING unless changed.
    request_filter = _RequestIdFilter()
    log_handler = _LambdaLogHandler()
    log_handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    log_handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    log_handler.addFilter(request_filter)
    logging.getLogger().addHandler(log_handler)

    started = time.perf_counter()
    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except _InitError as exc:
        _log_error(exc.payload)
        stream.flush()
        _send({"type": "init", "ok": False, "payload": _to_json(exc.payload)})
        return
    stream.flush()
    _send({"type": "init", "ok": True, "duration_ms": (time.perf_counter() - started) * 1000.0})

    for line in sys.stdin.buffer:
        request = json.loads(line)
        outcome = _invoke(handler, request, request_filter)
        stream.flush()
        _send({"type": "result", "duration_ms": _last_duration[0], **outcome})


if __name__ == "__main__":
    main()
