"""Exceptions dbutils raises, named and worded as on a Databricks cluster.

On Databricks these surface as `Py4JJavaError`s wrapping a JVM exception; the run output's `error`
shows the JVM class and message, e.g. "com.databricks.dbutils_v1.InputWidgetNotDefined: No input widget
named x is defined" and "java.lang.IllegalArgumentException: Secret does not exist with scope: s and
key: k". Here they are Python exceptions with the JVM class's short name and the same message.
"""

from __future__ import annotations


class InputWidgetNotDefined(Exception):
    """`dbutils.widgets.get` of a widget that was neither defined nor passed as a parameter."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No input widget named {name} is defined")
        self.name = name


class IllegalArgumentException(ValueError):
    """A secret scope/key that does not exist, and other bad arguments the JVM side rejects."""


class SecretsUnavailable(RuntimeError):
    """The cluster cannot reach the workspace's secrets API (no DATABRICKS_HOST, or an HTTP error)."""


class NotebookExit(BaseException):
    """Raised by `dbutils.notebook.exit` to stop the notebook; the runner turns it into the result.

    A BaseException so that a notebook's own `except Exception:` does not swallow the exit.
    """

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value
