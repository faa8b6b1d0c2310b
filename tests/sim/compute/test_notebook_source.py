"""Databricks notebook source format → cells (no cluster needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.compute.notebook_source import NotebookSourceError, parse, resolve_run_target

SOURCE = """# Databricks notebook source
# MAGIC %md
# MAGIC # Title

# COMMAND ----------

x = 1

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT 1
# COMMAND ----------
# MAGIC %pip install pandas
"""


def test_cells_are_split_on_command_separators_and_magics_recognised():
    cells = parse(SOURCE)
    assert [c.magic for c in cells] == ["md", None, "sql", "pip"]
    assert cells[2].body.strip() == "SELECT 1"
    assert cells[3].body.strip() == "install pandas"


def test_a_cell_keeps_its_line_numbers_so_tracebacks_point_at_the_file():
    cell = parse(SOURCE)[1]
    assert cell.padded().splitlines()[6] == "x = 1"  # line 7 of the file


def test_a_file_without_the_header_is_one_python_cell():
    cells = parse("print('hi')\n# COMMAND ----------\nprint(2)\n")
    assert len(cells) == 1 and cells[0].magic is None


def test_run_target_resolves_relative_to_the_notebook_with_or_without_py(tmp_path: Path):
    (tmp_path / "common.py").write_text("# Databricks notebook source\n")
    assert resolve_run_target(tmp_path / "nb.py", "./common") == (tmp_path / "common.py").resolve()
    with pytest.raises(NotebookSourceError, match="missing"):
        resolve_run_target(tmp_path / "nb.py", "./missing")
