"""ml.data: only committed batches are read, one row per customer, partition column from the path."""

from __future__ import annotations

import json

import pytest
from ml_synthetic import processed_frame, write_local_batch

from ml.data import NoProcessedDataError, read_processed


def test_batches_without_a_manifest_are_skipped(tmp_path):
    write_local_batch(tmp_path, processed_frame(100, seed=1), "done")
    write_local_batch(tmp_path, processed_frame(50, seed=2, id_offset=10_000), "writing", manifest=False)
    data = read_processed(str(tmp_path))
    assert data.batches == ("done",)
    assert data.skipped_batches == ("writing",)
    assert len(data.frame) == 100


def test_every_committed_batch_is_read_and_processing_date_comes_from_the_path(tmp_path):
    write_local_batch(tmp_path, processed_frame(100, seed=1, processing_date="2026-11-01"), "a")
    write_local_batch(tmp_path, processed_frame(60, seed=2, processing_date="2026-11-02", id_offset=500), "b")
    data = read_processed(str(tmp_path))
    assert len(data.frame) == 160
    assert data.files == 4  # two parts per batch
    assert sorted(data.frame["processing_date"].unique()) == ["2026-11-01", "2026-11-02"]


def test_a_customer_in_two_batches_keeps_the_latest_record(tmp_path):
    old = processed_frame(20, seed=1, processing_date="2026-11-01")
    new = processed_frame(20, seed=2, processing_date="2026-11-05")  # same customer ids, new values
    write_local_batch(tmp_path, new, "b-new")
    write_local_batch(tmp_path, old, "a-old")
    data = read_processed(str(tmp_path))
    assert len(data.frame) == 20
    assert data.duplicates_dropped == 20
    assert (data.frame["processing_date"] == "2026-11-05").all()
    assert (
        data.frame.set_index("customer_id")["age"].to_dict() == new.set_index("customer_id")["age"].to_dict()
    )


def test_a_uri_naming_one_batch_reads_only_that_batch(tmp_path):
    write_local_batch(tmp_path, processed_frame(30, seed=1), "one")
    write_local_batch(tmp_path, processed_frame(40, seed=2, id_offset=100), "two")
    assert len(read_processed(str(tmp_path / "batch_id=two")).frame) == 40


def test_no_committed_batch_is_an_error_that_says_what_to_do(tmp_path):
    write_local_batch(tmp_path, processed_frame(10, seed=1), "writing", manifest=False)
    with pytest.raises(NoProcessedDataError, match=r"none has _manifest\.json; run the ETL job first"):
        read_processed(str(tmp_path))


def test_the_manifest_file_list_wins_over_stray_part_files(tmp_path):
    df = processed_frame(40, seed=1)
    write_local_batch(tmp_path, df, "b")
    listed = sorted(str(p) for p in tmp_path.rglob("part-*.parquet"))
    (tmp_path / "batch_id=b" / "_manifest.json").write_text(
        json.dumps({"batch_id": "b", "files": listed[:1]})
    )
    assert len(read_processed(str(tmp_path)).frame) == 20  # the first of the two parts only


def test_committed_batches_without_rows_are_an_error_not_an_empty_model(tmp_path):
    (tmp_path / "batch_id=empty").mkdir()
    (tmp_path / "batch_id=empty" / "_manifest.json").write_text(
        json.dumps({"batch_id": "empty", "files": []})
    )
    with pytest.raises(NoProcessedDataError, match="hold no rows"):
        read_processed(str(tmp_path))
