"""`display` / `displayHTML` for notebooks run as jobs: there is no UI, so they print text to the logs."""

from __future__ import annotations

from typing import Any

_ROWS = 20


def display(input: Any = None, *args: Any, **kwargs: Any) -> None:
    if input is None:
        return
    if hasattr(input, "show") and hasattr(input, "schema"):  # a Spark DataFrame
        input.show(_ROWS, truncate=False)
    elif hasattr(input, "to_string"):  # pandas
        print(input.to_string(max_rows=_ROWS))
    else:
        print(repr(input))


def displayHTML(html: str) -> None:
    print(html)
