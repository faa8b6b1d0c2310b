"""`run_etl` end to end on local files: exact quarantine counts, the rows invariant, idempotent batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from etl.batches import committed_manifests, read_processed
from etl.pipeline import run_etl
from etl.storage import Storage
from sim.data import DIRTY_KINDS, SAMPLE_CSV, SAMPLE_JSON, generate
from tests import schedule

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group(schedule.SPARK_FIXTURE)]
DAY = "2026-01-02"


def etl(spark, source: Path, root: Path, **kwargs) -> dict:
    return run_etl(spark, source_uri=str(source), processed_root=str(root / "processed"),
                   quarantine_root=str(root / "quarantine"), processing_date=DAY, **kwargs)  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_dirty_records_are_quarantined_exactly_as_the_generator_reports(spark, tmp_path, fmt):
    report = generate(tmp_path / f"in.{fmt}", rows=1500, seed=11, fmt=fmt, dirty_share=0.15)
    summary = etl(spark, report.path, tmp_path)

    assert summary["status"] == "SUCCEEDED"
    assert summary["quarantine_reasons"] == report.expected_quarantine_reasons()
    assert summary["rows_in"] == report.rows == summary["rows_written"] + summary["rows_quarantined"]
    assert summary["rows_written"] == report.clean_rows

    written = spark.read.parquet(summary["output_uri"])
    assert written.count() == summary["rows_written"]
    assert written.select("customer_id").distinct().count() == summary["rows_written"]
    quarantine = spark.read.parquet(summary["quarantine_uri"])
    assert quarantine.count() == summary["rows_quarantined"]
    assert quarantine.where(F.col("line_number").isNull() | F.col("raw_bytes").isNull()).count() == 0
    assert summary["dq"]["checks"]["rows_balance"]["passed"]


@pytest.mark.parametrize("kind", DIRTY_KINDS)
def test_rows_in_equal_rows_written_plus_quarantined_for_each_dirty_kind(spark, tmp_path, kind):
    report = generate(tmp_path / "in.csv", rows=300, seed=3, dirty_share=0.2, dirty_kinds=[kind])
    summary = etl(spark, report.path, tmp_path)
    assert report.dirty[kind] > 0
    assert (summary["rows_in"], summary["rows_written"], summary["rows_quarantined"]) == (
        300,
        report.clean_rows,
        report.dirty[kind],
    )


def test_quarantined_line_numbers_point_at_the_lines_in_the_file(spark, tmp_path):
    report = generate(tmp_path / "in.csv", rows=400, seed=5, dirty_share=0.1, dirty_kinds=["malformed_line"])
    summary = etl(spark, report.path, tmp_path)
    lines = report.path.read_bytes().splitlines()
    for row in spark.read.parquet(summary["quarantine_uri"]).collect():
        assert lines[row["line_number"] - 1] == bytes(row["raw_bytes"])


def test_rerun_on_the_same_input_is_skipped_and_writes_no_duplicates(spark, tmp_path):
    report = generate(tmp_path / "in.csv", rows=500, seed=8, dirty_share=0.05)
    first = etl(spark, report.path, tmp_path)
    files_before = sorted((tmp_path / "processed").rglob("*.parquet"))
    second = etl(spark, report.path, tmp_path)

    assert (first["skipped"], second["skipped"]) == (False, True)
    assert {k: v for k, v in second.items() if k != "skipped"} == {
        k: v for k, v in first.items() if k != "skipped"
    }
    assert sorted((tmp_path / "processed").rglob("*.parquet")) == files_before
    with Storage(spark) as storage:
        assert read_processed(storage, str(tmp_path / "processed")).count() == first["rows_written"]


def test_rerun_with_another_date_replaces_the_batch_instead_of_adding_one(spark, tmp_path):
    report = generate(tmp_path / "in.csv", rows=300, seed=9)
    etl(spark, report.path, tmp_path)
    again = run_etl(spark, source_uri=str(report.path), processed_root=str(tmp_path / "processed"),
                    quarantine_root=str(tmp_path / "quarantine"), processing_date="2026-01-03")  # fmt: skip
    assert not again["skipped"]
    with Storage(spark) as storage:
        manifests = committed_manifests(storage, str(tmp_path / "processed"))
        processed = read_processed(storage, str(tmp_path / "processed"))
        assert [m["processing_date"] for m in manifests] == ["2026-01-03"]
        assert processed.count() == 300
        assert [str(r[0]) for r in processed.select("processing_date").distinct().collect()] == ["2026-01-03"]


def test_a_batch_without_its_manifest_is_not_listed_nor_read(spark, tmp_path):
    a = etl(spark, generate(tmp_path / "a.csv", rows=200, seed=1).path, tmp_path)
    b = etl(spark, generate(tmp_path / "b.csv", rows=100, seed=2).path, tmp_path)
    Path(b["manifest_uri"]).unlink()  # as if the job died before committing b

    with Storage(spark) as storage:
        manifests = committed_manifests(storage, str(tmp_path / "processed"))
        assert [m["batch_id"] for m in manifests] == [a["batch_id"]]
        assert read_processed(storage, str(tmp_path / "processed")).count() == 200
    rerun = etl(spark, tmp_path / "b.csv", tmp_path)  # an uncommitted batch is rebuilt, not trusted
    assert not rerun["skipped"] and Path(rerun["manifest_uri"]).exists()


def test_the_manifest_is_written_after_every_data_file(spark, tmp_path):
    summary = etl(spark, generate(tmp_path / "in.csv", rows=200, seed=4, dirty_share=0.1).path, tmp_path)
    manifest = json.loads(Path(summary["manifest_uri"]).read_text())
    data_files = [Path(f) for f in manifest["files"] + manifest["quarantine_files"]]
    assert data_files and all(f.exists() for f in data_files)
    assert Path(summary["manifest_uri"]).stat().st_mtime_ns >= max(f.stat().st_mtime_ns for f in data_files)
    assert manifest["rows_in"] == summary["rows_in"] and manifest["source_uri"] == str(tmp_path / "in.csv")


@pytest.mark.parametrize("sample", [SAMPLE_CSV, SAMPLE_JSON], ids=["csv", "json_array"])
def test_seed_samples_lack_the_customer_columns_so_every_record_is_quarantined(spark, tmp_path, sample):
    summary = etl(spark, sample, tmp_path)
    assert (summary["rows_in"], summary["rows_written"]) == (5, 0)
    assert summary["quarantine_reasons"] == {"missing customer_id": 5}
    assert not summary["dq"]["passed"] and not summary["dq"]["checks"]["output_not_empty"]["passed"]


def test_a_json_array_file_of_customers_is_processed(spark, tmp_path):
    report = generate(tmp_path / "in.jsonl", rows=50, seed=6, fmt="jsonl")
    array = tmp_path / "in.json"
    array.write_text("[\n" + ",\n".join(report.path.read_text(encoding="utf-8").splitlines()) + "\n]\n")
    summary = etl(spark, array, tmp_path)
    assert (summary["rows_in"], summary["rows_written"], summary["rows_quarantined"]) == (50, 50, 0)
