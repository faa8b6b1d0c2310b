"""Issue 17's table: each benchmark reports its rows here, and `python -m bench` (`make bench`) prints
every row of the run together, each with its target beside it.

A row is printed where it is measured, and, when `python -m bench` runs the script, also appended as one
JSON line to the file named by `$STEPBRICKS_BENCH_ROWS`, which `bench/__main__.py` reads back at the end.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

ROWS_VARIABLE = "STEPBRICKS_BENCH_ROWS"


@dataclass(frozen=True)
class Row:
    loop: str
    figure: float
    unit: str  # "s", "x", "MB", "/s"
    target: float
    at_most: bool = True  # the figure must be <= target (False: >= target)

    @property
    def met(self) -> bool:
        return self.figure <= self.target if self.at_most else self.figure >= self.target

    def line(self) -> str:
        bound = "<=" if self.at_most else ">="
        return (f"{self.loop:<66}{self.figure:>10.2f} {self.unit:<3}{bound:>4} {self.target:g} {self.unit:<3}"
                f"  {'met' if self.met else 'NOT met'}")


def report(loop: str, figure: float, unit: str, target: float, *, at_most: bool = True) -> Row:
    """Print the row and hand it to `python -m bench` when it is collecting."""
    row = Row(loop, float(figure), unit, float(target), at_most)
    print(row.line(), flush=True)
    path = os.environ.get(ROWS_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(row)) + "\n")
    return row


def read(path: str) -> list[Row]:
    try:
        with open(path, encoding="utf-8") as fh:
            return [Row(**json.loads(line)) for line in fh if line.strip()]
    except FileNotFoundError:
        return []
