"""`etl.batches.find_batches`: the one reading of the batch layout that the ETL's Spark reader and the
ML jobs' pandas reader share, on local paths and a real moto S3, with no SparkSession."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from etl.batches import MANIFEST_NAME, committed_manifests, find_batches
from etl.objects import InvalidUriError, LocalOrS3Store, StorageError
from ml.data import NoProcessedDataError
from ml.data import read_processed as ml_read_processed
from ml.storage import LocalOrS3Store as MlStore

PROCESSED = "s3://stepbricks-processed"


def _batch(store: LocalOrS3Store, root: str, batch: str, *, manifest: object = None, parts: int = 2) -> list[str]:
    files = [f"{root}/batch_id={batch}/processing_date=2026-11-01/part-{i:05d}.parquet" for i in range(parts)]
    for uri in files:
        store.put_bytes(uri, b"PAR1")
    store.put_bytes(f"{root}/batch_id={batch}/_SUCCESS", b"")
    if manifest is not None:
        body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        store.put_bytes(f"{root}/batch_id={batch}/{MANIFEST_NAME}", body)
    return files


def _committed_and_uncommitted_are_told_apart(root: str) -> None:
    store = LocalOrS3Store()
    done = _batch(store, root, "b-done", manifest={"batch_id": "b-done", "files": []})
    _batch(store, root, "a-writing")
    store.put_bytes(f"{root}/not-a-batch/part-00000.parquet", b"PAR1")

    found = find_batches(store, root)

    assert [(b.batch_id, b.committed) for b in found] == [("a-writing", False), ("b-done", True)]
    assert found[1].uri == f"{root}/batch_id=b-done"
    assert list(found[1].data_files) == done  # `_SUCCESS` and the manifest are not data
    assert committed_manifests(store, root) == [{"batch_id": "b-done", "files": []}]
    assert [b.batch_id for b in find_batches(store, f"{root}/batch_id=b-done/")] == ["b-done"]


def test_committed_and_uncommitted_batches_are_told_apart_and_markers_are_not_data(tmp_path):
    _committed_and_uncommitted_are_told_apart(str(tmp_path / "processed"))


def test_batches_on_s3_are_found_as_on_local_paths(s3_stack):
    _committed_and_uncommitted_are_told_apart(f"{PROCESSED}/discovery")


def test_the_manifest_file_list_is_what_a_batch_holds_and_without_one_the_data_files_are(tmp_path):
    root = str(tmp_path / "processed")
    store = LocalOrS3Store()
    listed = _batch(store, root, "listed", parts=3)
    store.put_bytes(f"{root}/batch_id=listed/{MANIFEST_NAME}", json.dumps({"files": listed[1:]}).encode())
    older = _batch(store, root, "older", manifest={"batch_id": "older"})

    by_id = {b.batch_id: b for b in find_batches(store, root)}

    assert by_id["listed"].files == listed[1:]
    assert by_id["older"].files == older


def test_a_uri_naming_one_batch_finds_only_that_batch(tmp_path):
    root = str(tmp_path / "processed")
    store = LocalOrS3Store()
    _batch(store, root, "one", manifest={"batch_id": "one"})
    two = _batch(store, root, "two", manifest={"batch_id": "two"})

    found = find_batches(store, f"{root}/batch_id=two/")

    assert [(b.batch_id, b.uri, b.files) for b in found] == [("two", f"{root}/batch_id=two", two)]
    assert committed_manifests(store, f"{root}/batch_id=two") == [{"batch_id": "two"}]


def test_a_manifest_that_is_not_a_json_object_leaves_its_batch_uncommitted(tmp_path):
    root = str(tmp_path / "processed")
    store = LocalOrS3Store()
    _batch(store, root, "odd", manifest=b"[1, 2]")
    assert [(b.batch_id, b.committed) for b in find_batches(store, root)] == [("odd", False)]


def test_an_empty_or_missing_root_has_no_batches(tmp_path):
    root = str(tmp_path / "processed")
    assert find_batches(LocalOrS3Store(), f"{root}/nothing-here") == []


def test_a_file_uri_root_is_read_like_its_path(tmp_path):
    store = LocalOrS3Store()
    files = _batch(store, str(tmp_path), "b", manifest={"batch_id": "b"})
    found = find_batches(store, f"file://{tmp_path}")
    assert [(b.batch_id, b.files) for b in found] == [("b", files)]


def test_the_ml_store_is_the_etl_store_and_ml_reads_batches_through_the_same_discovery(tmp_path):
    assert MlStore is LocalOrS3Store
    _batch(LocalOrS3Store(), str(tmp_path), "writing")
    # Same verdict as find_batches (one uncommitted batch), in the ML job's own words.
    with pytest.raises(NoProcessedDataError, match=r"found 1 batch folder\(s\) \['writing'\] but none has _manifest\.json"):
        ml_read_processed(str(tmp_path))


def test_an_s3_uri_without_a_bucket_is_a_storage_error_and_a_value_error():
    with pytest.raises(InvalidUriError, match="has no bucket") as raised:
        LocalOrS3Store().get_bytes("s3:///key")
    assert isinstance(raised.value, StorageError) and isinstance(raised.value, ValueError)


def test_batch_discovery_and_the_ml_readers_import_no_spark():
    # The ML jobs use the ETL's discovery without a SparkSession; importing pyspark would cost them seconds.
    code = "import sys, etl.batches, ml.data, ml.train, ml.evaluate; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"
