"""The ETL's memory does not follow the file's size: tasks sized to the rows, nothing row-sized on the driver.

A 5-million-row file used to go through the de-duplication in `spark.sql.shuffle.partitions` (2) tasks
of 2.5M rows each, and the batch's distinct-count ran its spill merge out of a 1 GB heap. The number of
tasks now follows the rows (`ROWS_PER_TASK` each); these tests shrink that size so a small file takes
the many-task path, and check that every output is what the default path writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import transform
from etl.pipeline import run_etl
from sim.data import generate
from tests import schedule

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group(schedule.SPARK_FIXTURE)]
DAY = "2026-01-02"


def test_tasks_follow_the_rows_only_beyond_what_the_configured_partitions_hold():
    assert transform.partitions_for(5_000, configured=2) is None  # Spark's own plan, as before
    assert transform.partitions_for(400_000, configured=2) is None
    assert transform.partitions_for(5_000_000, configured=2) == 25
    assert transform.partitions_for(5_000_001, configured=2) == 26
    # Databricks' 200 shuffle partitions (coalesced by adaptive execution) already hold 40M rows
    assert transform.partitions_for(5_000_000, configured=200) is None


def _etl(spark, source: Path, root: Path) -> dict:
    return run_etl(spark, source_uri=str(source), processed_root=str(root / "processed"),
                   quarantine_root=str(root / "quarantine"), processing_date=DAY)  # fmt: skip


def _rows(spark, uri: str, key: str) -> list:
    return [tuple(r) for r in spark.read.parquet(uri).orderBy(key).collect()]


@pytest.fixture
def collects(spark, monkeypatch):
    """Every result a DataFrame action brings to the driver while the test runs: (action, rows)."""
    seen: list[tuple[str, int]] = []
    frame = type(spark.range(1))  # the session's DataFrame class (pyspark.sql.classic's, or Connect's)
    collect = frame.collect

    def counted(self):
        rows = collect(self)
        seen.append(("collect", len(rows)))
        return rows

    monkeypatch.setattr(frame, "collect", counted)
    for name in ("toPandas", "toArrow", "toLocalIterator", "take", "tail"):
        original = getattr(frame, name)

        def recorded(self, *args, _name=name, _original=original, **kwargs):
            seen.append((_name, -1))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(frame, name, recorded)
    return seen


def test_many_small_tasks_write_exactly_what_the_default_plan_writes(spark, tmp_path, monkeypatch, collects):
    report = generate(tmp_path / "in.csv", rows=3_000, seed=21, dirty_share=0.2)
    default = _etl(spark, report.path, tmp_path / "default")
    collects.clear()
    monkeypatch.setattr(transform, "ROWS_PER_TASK", 250)  # 3 000 rows: 12 tasks instead of the configured 1
    assert transform.partitions_for(3_000, configured=1) == 12
    small_tasks = _etl(spark, report.path, tmp_path / "small")
    brought = list(collects)

    assert small_tasks["quarantine_reasons"] == default["quarantine_reasons"] == report.expected_quarantine_reasons()
    for key in ("rows_in", "rows_written", "rows_quarantined", "dq", "batch_id"):
        assert small_tasks[key] == default[key], key
    assert _rows(spark, small_tasks["output_uri"], "customer_id") == _rows(spark, default["output_uri"], "customer_id")
    assert _rows(spark, small_tasks["quarantine_uri"], "line_number") == _rows(
        spark, default["quarantine_uri"], "line_number"
    )
    # nothing row-sized reached the driver: a few aggregate rows per action (partitions, reasons), no frames
    assert brought, "the ETL's aggregations should have been seen"
    assert all(action == "collect" for action, _ in brought), brought
    assert max(rows for _, rows in brought) <= 40 < report.rows
    assert _etl(spark, report.path, tmp_path / "small")["skipped"]  # the idempotent skip is unchanged
