"""Databricks notebook source format (`.py` export) → cells the runner can execute.

Format: first line `# Databricks notebook source`, cells separated by `# COMMAND ----------`, a magic
cell has every line prefixed `# MAGIC ` and starts with `%md`, `%pip`, `%sql`, `%run`, … A file without
the header is one plain Python cell. Each cell keeps its line numbers, so tracebacks point at the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HEADER = "# Databricks notebook source"
SEPARATOR = "# COMMAND ----------"
MAGIC = "# MAGIC"


class NotebookSourceError(Exception):
    """A notebook the cluster cannot run (unsupported magic, %run target missing)."""


@dataclass(frozen=True)
class Cell:
    first_line: int  # 1-based line of the cell's first line in the file
    magic: str | None  # "md", "pip", "sql", "run", "python", … or None for a Python cell
    body: str  # Python source, or the magic's text without the "# MAGIC " prefix and the %word

    def padded(self) -> str:
        """The body preceded by blank lines so that compiled line numbers match the file."""
        return "\n" * (self.first_line - 1) + self.body


def _strip_magic(line: str) -> str:
    rest = line[len(MAGIC) :]
    return rest[1:] if rest.startswith(" ") else rest


def _cell(lines: list[str], first_line: int) -> Cell:
    code = [line for line in lines if line.strip()]
    if code and all(line.startswith(MAGIC) for line in code):
        stripped = [_strip_magic(line) if line.startswith(MAGIC) else line for line in lines]
        # The magic word is the first token of the first non-blank line: "%sql", "%md-sandbox", …
        index = next(i for i, line in enumerate(stripped) if line.strip())
        head = stripped[index].strip()
        word, _, remainder = head.partition(" ")
        if word.startswith("%"):
            stripped[index] = remainder
            return Cell(first_line, word[1:].lower(), "\n".join(stripped))
    return Cell(first_line, None, "\n".join(lines))


def parse(source: str) -> list[Cell]:
    lines = source.splitlines()
    if not lines or lines[0].strip() != HEADER:
        return [Cell(1, None, source)]
    cells: list[Cell] = []
    start, current = 2, []
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == SEPARATOR:
            cells.append(_cell(current, start))
            start, current = number + 1, []
        else:
            current.append(line)
    cells.append(_cell(current, start))
    return cells


def resolve_run_target(notebook: Path, target: str) -> Path:
    """`%run ./common` → the sibling file `common.py` (relative to the notebook, as on Databricks)."""
    target = target.strip().strip("\"'")
    base = notebook.parent / target if not Path(target).is_absolute() else Path(target)
    for candidate in (base, base.with_name(base.name + ".py")):
        if candidate.is_file():
            return candidate.resolve()
    raise NotebookSourceError(f"%run {target}: notebook not found (looked for {base} and {base}.py)")
