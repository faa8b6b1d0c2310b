"""The run output's one-line `error` and its traceback (no cluster needed)."""

from __future__ import annotations

from sim.compute.errors import one_line, trace


class _JavaException:
    def toString(self) -> str:
        return "java.lang.IllegalArgumentException: Secret does not exist with scope: s and key: k"


class Py4JJavaError(Exception):
    """Shaped like py4j.protocol.Py4JJavaError: a message naming the call, the JVM exception aside."""

    def __init__(self) -> None:
        super().__init__("An error occurred while calling o12.getSecret.\n: java.lang.IllegalArgumentException: ...")
        self.java_exception = _JavaException()


def test_python_exception_becomes_type_and_message():
    assert one_line(ZeroDivisionError("division by zero")) == "ZeroDivisionError: division by zero"


def test_multi_line_message_keeps_only_its_first_meaningful_line():
    error = Exception("\n[TABLE_OR_VIEW_NOT_FOUND] The table `t` cannot be found.\n== SQL ==\nselect * from t")
    assert one_line(error) == "Exception: [TABLE_OR_VIEW_NOT_FOUND] The table `t` cannot be found."


def test_py4j_error_shows_the_jvm_exception_line():
    assert one_line(Py4JJavaError()) == (
        "java.lang.IllegalArgumentException: Secret does not exist with scope: s and key: k"
    )


def test_trace_is_the_full_traceback_text():
    try:
        raise KeyError("missing")
    except KeyError as error:
        text = trace(error)
    assert text.startswith("Traceback (most recent call last):") and text.rstrip().endswith("KeyError: 'missing'")
