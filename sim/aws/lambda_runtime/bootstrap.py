"""The worker side of the local Lambda runtime: one process is one warm execution environment.

Started as `python -I -S bootstrap.py` with an explicit environment, so it sees only what the AWS
Python runtime offers: the function's code (LAMBDA_TASK_ROOT), the runtime's boto3 and its deps
(LAMBDA_RUNTIME_DIR, as /var/runtime on AWS) and the standard library. It must import nothing but the
standard library itself.

Protocol: JSON lines. stdin carries `{"type": "invoke", ...}` requests; a private duplicate of the
original stdout carries `init`, `log` and `result` messages. fd 1 is pointed at stderr so stray C-level
writes cannot corrupt the protocol. Error payloads and messages copy awslambdaric (the AWS Python
runtime interface client, `bootstrap.py` / `lambda_runtime_exception.py`).
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any

_send_lock = threading.Lock()
_proto_out: Any = None


def _send(message: dict[str, Any]) -> None:
    with _send_lock:
        _proto_out.write(json.dumps(message) + "\n")
        _proto_out.flush()


class _LogStream(io.TextIOBase):
    """stdout/stderr of the handler: complete lines go to the parent as they are written."""

    def __init__(self) -> None:
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        if "\n" in self._partial:
            complete, self._partial = self._partial.rsplit("\n", 1)
            _send({"type": "log", "text": complete + "\n"})
        return len(text)

    def flush(self) -> None:
        if self._partial:
            _send({"type": "log", "text": self._partial + "\n"})
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


def _error(error_type: str, message: str, request_id: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack or []}


def _user_error(exc: BaseException, request_id: str) -> dict[str, Any]:
    """awslambdaric `build_fault_result`: the exception's class name, str() and the user's frames."""
    frames = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in frames if f.filename != __file__]
    return _error(type(exc).__name__, str(exc), request_id, traceback.format_list(frames))


def _log_error(error: dict[str, Any]) -> None:
    """The runtime's own log line for a failure: `[ERROR] Type: message` then the traceback."""
    text = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    if error["stackTrace"]:
        text += "\nTraceback (most recent call last):\n" + "".join(error["stackTrace"]).rstrip("\n")
    print(text, file=sys.stderr)


def _load_handler(handler: str) -> Any:
    """Import `module.function` from the task root; raises a dict payload on failure, as AWS reports it."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _InitError(_error("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}", "")) from exc
    modname = modname.replace("/", ".")
    try:
        module = importlib.import_module(modname)
    except ImportError as exc:
        raise _InitError(
            _error("Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}", "")
        ) from exc
    except SyntaxError as exc:
        raise _InitError(
            _error("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}", "")
        ) from exc
    except Exception as exc:
        raise _InitError(_user_error(exc, "")) from exc
    try:
        return getattr(module, fname)
    except AttributeError as exc:
        raise _InitError(
            _error("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'", "")
        ) from exc


class _InitError(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload["errorMessage"])
        self.payload = payload


def _invoke(handler: Any, request: dict[str, Any], request_filter: _RequestIdFilter) -> dict[str, Any]:
    request_id = request["request_id"]
    request_filter.request_id = request_id
    started = time.perf_counter()
    try:
        event = json.loads(request["payload"]) if request["payload"] else {}
        result = handler(event, _Context(request))
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id)
            _log_error(error)
            return {"ok": False, "payload": json.dumps(error)}
        return {"ok": True, "payload": payload}
    except Exception as exc:
        error = _user_error(exc, request_id)
        _log_error(error)
        return {"ok": False, "payload": json.dumps(error)}
    finally:
        sys.stdout.flush()
        request_filter.request_id = ""
        _last_duration[0] = (time.perf_counter() - started) * 1000.0


_last_duration = [0.0]


def main() -> None:
    global _proto_out
    _proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    stream = _LogStream()
    sys.stdout = sys.stderr = stream

    task_root = os.environ["LAMBDA_TASK_ROOT"]
    runtime_dir = os.environ["LAMBDA_RUNTIME_DIR"]
    sys.path[:0] = [task_root, runtime_dir]
    os.chdir(task_root)

    # The AWS Python runtime's root logger: a handler in this format, level WARNING unless changed.
    request_filter = _RequestIdFilter()
    log_handler = logging.StreamHandler(stream)
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
        _send({"type": "init", "ok": False, "payload": json.dumps(exc.payload)})
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
