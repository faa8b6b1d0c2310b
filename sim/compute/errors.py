"""How a task's exception becomes the run output's `error` (one line) and `error_trace` (the traceback).

Databricks shows `error` as "ExceptionType: message"; for a Spark/py4j failure only the meaningful first
line (the JVM exception) is kept, the rest goes to the trace. The trace starts at the user's code:
the cluster's own frames (this package, runpy) are cut off the front.
"""

from __future__ import annotations

import runpy
import traceback
from pathlib import Path
from types import TracebackType

_OWN_FILES = (str(Path(__file__).parent), runpy.__file__)


class AttemptStopped(BaseException):
    """Injected asynchronously into an attempt's thread when the attempt is canceled or timed out."""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def one_line(error: BaseException) -> str:
    name = type(error).__name__
    message = str(error)
    java = getattr(error, "java_exception", None)
    if java is not None:  # py4j.protocol.Py4JJavaError: "An error occurred while calling …\n: java.…: msg"
        try:
            return _first_line(java.toString())
        except Exception:
            lines = [line for line in message.splitlines() if line.startswith(": ")]
            if lines:
                return lines[0][2:].strip()
    line = _first_line(message)
    return f"{name}: {line}" if line else name


def _user_traceback(tb: TracebackType | None) -> TracebackType | None:
    first = tb
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OWN_FILES):
        tb = tb.tb_next
    return tb or first


def trace(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, _user_traceback(error.__traceback__)))
