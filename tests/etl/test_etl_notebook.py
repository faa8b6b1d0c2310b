"""The ETL notebook: Databricks source format, the widgets the jobs pass, and a run with a stand-in dbutils."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from sim.compute.notebook_source import parse
from sim.data import generate
from tests import schedule

pytestmark = pytest.mark.xdist_group(schedule.SPARK_FIXTURE)

NOTEBOOK = Path(__file__).resolve().parents[2] / "etl" / "notebooks" / "etl.py"
WIDGETS = ["source_uri", "processed_root", "quarantine_root", "processing_date", "task_token"]


def code_cells() -> list[str]:
    return [c.padded() for c in parse(NOTEBOOK.read_text()) if c.magic is None]


def calls(tree: ast.AST) -> list[str]:
    return [ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]


def test_notebook_is_in_databricks_source_format_and_every_cell_compiles():
    source = NOTEBOOK.read_text()
    assert source.splitlines()[0] == "# Databricks notebook source"
    cells = parse(source)
    assert len(cells) >= 3 and cells[0].magic == "md"
    for cell in code_cells():
        compile(cell, str(NOTEBOOK), "exec")


def test_notebook_defines_the_widgets_calls_run_etl_and_exits_with_json():
    tree = ast.parse("\n".join(code_cells()))
    defined = [n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call)
               and ast.unparse(n.func) == "dbutils.widgets.text"]  # fmt: skip
    assert defined == WIDGETS
    assert "run_etl" in calls(tree) and "report_to_step_functions" in calls(tree)
    last = ast.parse(code_cells()[-1]).body[-1]
    assert ast.unparse(last) == "dbutils.notebook.exit(json.dumps(summary))"


class _Exit(BaseException):
    def __init__(self, value: str) -> None:
        self.value = value


class _StandInDbutils:
    """Just enough dbutils for one run: widgets bound by the job, notebook.exit raising like Databricks'."""

    def __init__(self, params: dict[str, str]) -> None:
        self.widgets = self
        self.notebook = self
        self.params = dict(params)

    def text(self, name: str, default: str, label: str | None = None) -> None:
        self.params.setdefault(name, default)

    def get(self, name: str) -> str:
        return self.params[name]

    def exit(self, value: str) -> None:
        raise _Exit(value)


@pytest.mark.spark
def test_notebook_run_exits_with_the_summary_json(spark, tmp_path, monkeypatch):
    monkeypatch.delenv("STEPBRICKS_STORAGE_MODE", raising=False)
    report = generate(tmp_path / "in.csv", rows=120, seed=2, dirty_share=0.1)
    dbutils = _StandInDbutils({"source_uri": str(report.path), "processed_root": str(tmp_path / "p"),
                               "quarantine_root": str(tmp_path / "q"), "processing_date": "2026-01-02"})  # fmt: skip
    scope = {"spark": spark, "dbutils": dbutils, "__name__": "__main__"}
    with pytest.raises(_Exit) as exited:
        for cell in code_cells():
            exec(compile(cell, str(NOTEBOOK), "exec"), scope)
    summary = json.loads(exited.value.value)
    assert summary["status"] == "SUCCEEDED"
    assert summary["rows_in"] == 120 == summary["rows_written"] + summary["rows_quarantined"]
    assert summary["quarantine_reasons"] == report.expected_quarantine_reasons()
    assert set(summary) >= {"output_uri", "quarantine_uri", "manifest_uri", "dq"}


def test_notebook_fails_fast_naming_an_empty_required_widget(tmp_path):
    scope = {"spark": None, "dbutils": _StandInDbutils({}), "__name__": "__main__"}
    with pytest.raises(ValueError, match="widget 'source_uri' is required"):
        for cell in code_cells():
            exec(compile(cell, str(NOTEBOOK), "exec"), scope)
