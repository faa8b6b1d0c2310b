"""The storage adapter against a real moto S3 server: staged reads/writes and the object operations."""

from __future__ import annotations

import pytest

from etl.batches import committed_manifests, read_processed
from etl.pipeline import run_etl
from etl.storage import Storage, StorageError
from sim.data import generate
from tests import schedule

pytestmark = pytest.mark.xdist_group(schedule.SPARK_FIXTURE)

RAW = "s3://stepbricks-raw"
PROCESSED = "s3://stepbricks-processed"


def test_from_env_picks_the_mode_the_cluster_sets(spark, monkeypatch):
    monkeypatch.setenv("STEPBRICKS_STORAGE_MODE", "staged")
    assert Storage.from_env(spark).mode == "staged"
    monkeypatch.delenv("STEPBRICKS_STORAGE_MODE")
    assert Storage.from_env(spark).mode == "direct"
    monkeypatch.setenv("STEPBRICKS_STORAGE_MODE", "s3a")
    with pytest.raises(StorageError, match="must be 'staged' or 'direct'"):
        Storage.from_env(spark)


def test_object_operations_put_get_list_exists_and_delete_a_prefix(spark, s3_stack):
    storage = Storage(spark, mode="staged")
    storage.put_json(f"{PROCESSED}/a/batch_id=1/_manifest.json", {"rows": 3})
    storage.put_bytes(f"{PROCESSED}/a/batch_id=1/part-0.parquet", b"x")
    storage.put_bytes(f"{PROCESSED}/ab/other", b"y")  # shares the string prefix "a", not the folder

    assert storage.get_json(f"{PROCESSED}/a/batch_id=1/_manifest.json") == {"rows": 3}
    assert storage.get_json(f"{PROCESSED}/a/nothing.json") is None
    assert storage.exists(f"{PROCESSED}/a/batch_id=1/part-0.parquet")
    assert not storage.exists(f"{PROCESSED}/a/batch_id=1/part-0")
    assert storage.list(f"{PROCESSED}/a") == [
        f"{PROCESSED}/a/batch_id=1/_manifest.json",
        f"{PROCESSED}/a/batch_id=1/part-0.parquet",
    ]
    storage.delete_prefix(f"{PROCESSED}/a")
    assert storage.list(f"{PROCESSED}/a") == []
    assert storage.exists(f"{PROCESSED}/ab/other")


def test_version_changes_with_the_content_and_names_a_missing_object(spark, s3_stack):
    storage = Storage(spark, mode="staged")
    storage.put_bytes(f"{RAW}/incoming/x.csv", b"one")
    first = storage.version(f"{RAW}/incoming/x.csv")
    storage.put_bytes(f"{RAW}/incoming/x.csv", b"two!")
    assert storage.version(f"{RAW}/incoming/x.csv") != first
    with pytest.raises(StorageError, match=r"s3://stepbricks-raw/incoming/missing.csv"):
        storage.version(f"{RAW}/incoming/missing.csv")


@pytest.mark.spark
def test_staged_etl_round_trip_through_moto_s3(spark, s3_stack, tmp_path, monkeypatch):
    monkeypatch.setenv("STEPBRICKS_STORAGE_MODE", "staged")
    monkeypatch.setenv("STEPBRICKS_STAGING_DIR", str(tmp_path / "staging"))
    report = generate(tmp_path / "customers.csv", rows=400, seed=12, dirty_share=0.1)
    s3_stack.s3.upload_file(str(report.path), "stepbricks-raw", "incoming/customers.csv")

    summary = run_etl(spark, source_uri=f"{RAW}/incoming/customers.csv", processed_root=f"{PROCESSED}/processed",
                      quarantine_root=f"{PROCESSED}/quarantine", processing_date="2026-01-02")  # fmt: skip

    assert summary["quarantine_reasons"] == report.expected_quarantine_reasons()
    assert summary["output_uri"].startswith(f"{PROCESSED}/processed/batch_id=")
    keys = [o["Key"] for o in s3_stack.s3.list_objects_v2(Bucket="stepbricks-processed")["Contents"]]
    assert f"processed/batch_id={summary['batch_id']}/_manifest.json" in keys
    assert any(k.startswith(f"processed/batch_id={summary['batch_id']}/processing_date=2026-01-02/part-")
               and k.endswith(".parquet") for k in keys)  # fmt: skip
    assert not any(k.endswith(("_SUCCESS", ".crc")) for k in keys)
    assert not list((tmp_path / "staging").iterdir())  # staged copies are removed when the run ends

    with Storage.from_env(spark) as storage:
        assert [m["batch_id"] for m in committed_manifests(storage, f"{PROCESSED}/processed")] == [
            summary["batch_id"]
        ]
        back = read_processed(storage, f"{PROCESSED}/processed")
        assert back.count() == summary["rows_written"] == report.clean_rows
        assert {r["source_file"] for r in back.select("source_file").distinct().collect()} == {
            f"{RAW}/incoming/customers.csv"
        }
