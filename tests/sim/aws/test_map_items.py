"""What a Distributed Map reads, batches and writes (`sim.aws.map_items`), without moto: the developer guide's
"ItemReader (Map)", "ItemBatcher (Map)" and "ResultWriter (Map)" pages."""

from __future__ import annotations

import datetime
import gzip
import json

import pytest

from sim.aws import map_items
from sim.aws.map_items import Child, ItemReaderFailed


def test_a_quoted_csv_value_keeps_the_delimiter_and_a_short_row_gets_empty_values() -> None:
    text = 'id;note;city\n1;"a;b";Oslo\n\n2;x\n'
    assert map_items.csv_items(text, delimiter="SEMICOLON") == [
        {"id": "1", "note": "a;b", "city": "Oslo"}, {"id": "2", "note": "x", "city": ""}]


def test_an_unknown_delimiter_and_duplicate_headers_are_item_reader_failures() -> None:
    with pytest.raises(ItemReaderFailed, match="CSVDelimiter"):
        map_items.csv_items("a\n1\n", delimiter="COLON")
    with pytest.raises(ItemReaderFailed, match="CSV headers cannot contain duplicates"):
        map_items.csv_items("x\n1\n", header_location="GIVEN", headers=["a", "a"])


def test_max_items_keeps_the_first_items_and_zero_means_no_limit() -> None:
    assert map_items.jsonl_items('1\n2\n3\n', max_items=2) == [1, 2]
    assert map_items.json_items("[1, 2, 3]", max_items=0) == [1, 2, 3]
    with pytest.raises(ItemReaderFailed, match="non-iterable"):
        map_items.json_items('{"a": 1}')


def test_an_inventory_manifest_names_its_bucket_files_and_columns() -> None:
    manifest = {"destinationBucket": "arn:aws:s3:::inv", "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size",
                "files": [{"key": "data/a.csv.gz"}]}  # fmt: skip
    found = map_items.inventory(json.dumps(manifest))
    assert (found.bucket, found.keys, found.columns) == ("inv", ["data/a.csv.gz"], ["Bucket", "Key", "Size"])
    rows = map_items.inventory_items(gzip.compress(b'"b","k/1.jpg","7"\n'), found.columns)
    assert rows == [{"Bucket": "b", "Key": "k/1.jpg", "Size": "7"}]
    with pytest.raises(ItemReaderFailed, match="Only CSV"):
        map_items.inventory(json.dumps({**manifest, "fileFormat": "Parquet"}))


def test_a_listed_object_is_passed_on_with_aws_field_names_and_epoch_seconds() -> None:
    modified = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assert map_items.listed_object({"Key": "k", "ETag": '"e"', "LastModified": modified, "Size": 3}) == {
        "Etag": '"e"', "Key": "k", "LastModified": int(modified.timestamp()), "Size": 3, "StorageClass": "STANDARD"}


def test_batches_respect_both_limits_and_an_oversized_item_travels_alone() -> None:
    assert map_items.batches([1, 2, 3], max_items=2, batch_input={"b": 1}) == [
        {"Items": [1, 2], "BatchInput": {"b": 1}}, {"Items": [3], "BatchInput": {"b": 1}}]
    # {"Items":[]} is 12 bytes; "aaaa" adds 6, a second item 7 more
    assert map_items.batches(["aaaa", "bbbb", "c" * 30, "d"], max_bytes=25) == [
        {"Items": ["aaaa", "bbbb"]}, {"Items": ["c" * 30]}, {"Items": ["d"]}]


def test_result_files_group_children_by_status_and_the_manifest_lists_them_with_their_sizes() -> None:
    arn = "arn:aws:states:us-east-1:1:mapRun:sm/files:abc"
    children = [Child(index=i, arn=f"x:{i}", name=str(i), state_machine_arn="sm/files", input={"i": i},
                      status=status, start="t0", stop="t1")
                for i, status in enumerate(["SUCCEEDED", "TIMED_OUT", "PENDING", "ABORTED"])]  # fmt: skip
    manifest_key, objects = map_items.result_files("out", arn, "bkt", children)

    assert manifest_key == "out/abc/manifest.json"
    manifest = json.loads(objects[manifest_key])
    assert manifest["ResultFiles"] == {
        status: [{"Key": f"out/abc/{status}_0.json", "Size": len(objects[f"out/abc/{status}_0.json"])}]
        for status in ("FAILED", "PENDING", "SUCCEEDED")}
    assert [r["Status"] for r in json.loads(objects["out/abc/FAILED_0.json"])] == ["TIMED_OUT", "ABORTED"]
    assert json.loads(objects["out/abc/PENDING_0.json"]) == [
        {"Input": '{"i": 2}', "InputDetails": {"Included": True}, "Status": "PENDING"}]
