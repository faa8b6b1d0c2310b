"""A Distributed Map's items and results as the AWS Step Functions developer guide describes them, without moto:
what an `ItemReader` reads from S3, how `ItemBatcher` groups items, and what `ResultWriter` writes.

- ItemReader ("ItemReader (Map)"): `arn:aws:states:::s3:getObject` with `ReaderConfig.InputType` CSV
  (`CSVHeaderLocation` FIRST_ROW or GIVEN with `CSVHeaders`, `CSVDelimiter` COMMA, PIPE, SEMICOLON, SPACE
  or TAB; every value a string), JSON (an array), JSONL (one JSON value a line) or MANIFEST (an S3
  Inventory `manifest.json`: the rows of its gzipped CSV files, named by its `fileSchema`); and
  `arn:aws:states:::s3:listObjectsV2` (every object under the prefix as `{Etag, Key, LastModified (epoch
  seconds), Size, StorageClass}`). `MaxItems` keeps the first n items. A file that cannot be read so fails
  the state with `States.ItemReaderFailed`.
- ItemBatcher ("ItemBatcher (Map)"): the selected items in `{"Items": [...]}` (plus `"BatchInput"` when
  given), at most `MaxItemsPerBatch` items and `MaxInputBytesPerBatch` bytes of JSON a batch.
- ResultWriter ("ResultWriter (Map)", https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html):
  `<Prefix>/<map run id>/manifest.json` (`DestinationBucket`, `MapRunArn`, `ResultFiles` with `FAILED`,
  `PENDING`, `SUCCEEDED` lists of `{Key, Size}`) and one `<STATUS>_0.json` a status that has children: an
  array of the child executions (`ExecutionArn`, `Input`, `InputDetails`, `Name`, `Output`/`OutputDetails`
  or `Error`/`Cause`, `RedriveCount`, `RedriveStatus`, `RedriveStatusReason`, `StartDate`,
  `StateMachineArn`, `Status`, `StopDate`). Timed-out and aborted children go to the FAILED file.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["CSV_DELIMITERS", "INPUT_TYPES", "Child", "ItemReaderFailed", "batches", "csv_items", "inventory",
           "inventory_items", "json_items", "jsonl_items", "listed_object", "result_files"]

INPUT_TYPES = ("CSV", "JSON", "JSONL", "MANIFEST")
CSV_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
MAX_ITEMS = 100_000_000  # "you can specify a limit of up to 100,000,000"


class ItemReaderFailed(Exception):
    """The data source cannot be read as its ReaderConfig says (States.ItemReaderFailed, with this cause)."""


def _limit(items: Iterable[Any], max_items: int | None) -> list[Any]:
    limit = MAX_ITEMS if not max_items else min(max_items, MAX_ITEMS)
    found = []
    for item in items:
        if len(found) == limit:
            break
        found.append(item)
    return found


def csv_items(text: str, *, header_location: str = "FIRST_ROW", headers: list[str] | None = None,
              delimiter: str = "COMMA", max_items: int | None = None) -> list[dict[str, str]]:  # fmt: skip
    """The rows of a CSV file as objects keyed by the header (values are strings, missing ones empty)."""
    if delimiter not in CSV_DELIMITERS:
        raise ItemReaderFailed(f"Unsupported CSVDelimiter: {delimiter}")  # (guess: refused at create on AWS)
    rows: Iterator[list[str]] = (row for row in csv.reader(io.StringIO(text), delimiter=CSV_DELIMITERS[delimiter])
                                 if row)  # fmt: skip
    if header_location == "FIRST_ROW":
        headers = next(rows, None) or []
    if not headers:
        raise ItemReaderFailed("CSV headers cannot be empty.")  # (guess)
    if len(set(headers)) < len(headers):
        raise ItemReaderFailed("CSV headers cannot contain duplicates.")  # as LocalStack recorded it
    return _limit(({h: (row[i] if i < len(row) else "") for i, h in enumerate(headers)} for row in rows), max_items)


def json_items(text: str, *, max_items: int | None = None) -> list[Any]:
    """A JSON file holding an array."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ItemReaderFailed(f"The file is not valid JSON: {exc}") from None  # (guess)
    if not isinstance(value, list):
        raise ItemReaderFailed("Attempting to map over non-iterable node.")  # as LocalStack recorded it
    return _limit(value, max_items)


def jsonl_items(text: str, *, max_items: int | None = None) -> list[Any]:
    """A JSON Lines file: one JSON value a non-blank line."""
    def lines() -> Iterator[Any]:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    raise ItemReaderFailed(f"Line {number} of the JSONL file is not valid JSON.") from None  # (guess)
    return _limit(lines(), max_items)


@dataclass(frozen=True)
class Inventory:
    """What an S3 Inventory manifest.json names: the bucket holding its data files, their keys, their columns."""

    bucket: str
    keys: list[str]
    columns: list[str]


def inventory(manifest_text: str) -> Inventory:
    """Read an S3 Inventory `manifest.json` (Step Functions reads CSV inventories only)."""
    try:
        manifest = json.loads(manifest_text)
        destination = manifest["destinationBucket"]
        file_format, schema, files = manifest["fileFormat"], manifest["fileSchema"], manifest["files"]
    except (ValueError, KeyError, TypeError):
        raise ItemReaderFailed("The manifest is not a valid S3 Inventory manifest.") from None  # (guess)
    if str(file_format).upper() != "CSV":
        raise ItemReaderFailed(f"Unsupported S3 Inventory file format: {file_format}. Only CSV is supported.")
    return Inventory(bucket=destination.removeprefix("arn:aws:s3:::"), keys=[f["key"] for f in files],
                     columns=[c.strip() for c in schema.split(",")])  # fmt: skip


def inventory_items(data: bytes, columns: list[str]) -> list[dict[str, str]]:
    """The rows of one inventory data file (gzipped CSV without a header) named by the manifest's columns."""
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    return csv_items(text, header_location="GIVEN", headers=columns)


def listed_object(obj: dict[str, Any]) -> dict[str, Any]:
    """One ListObjectsV2 `Contents` entry (boto3's) as the item Step Functions passes on."""
    modified = obj["LastModified"]
    return {"Etag": obj["ETag"], "Key": obj["Key"],
            "LastModified": int(modified.timestamp()) if isinstance(modified, datetime.datetime) else modified,
            "Size": obj["Size"], "StorageClass": obj.get("StorageClass", "STANDARD")}  # fmt: skip


def batches(items: list[Any], *, max_items: int | None = None, max_bytes: int | None = None,
            batch_input: Any = None) -> list[dict[str, Any]]:  # fmt: skip
    """Group `items` in order into child inputs `{"Items": [...], "BatchInput": ...}` of at most `max_items`
    items and `max_bytes` bytes of JSON each (an item bigger than `max_bytes` travels alone)."""
    def payload(group: list[Any]) -> dict[str, Any]:
        found: dict[str, Any] = {"Items": group}
        if batch_input is not None:
            found["BatchInput"] = batch_input
        return found

    base = len(_compact(payload([])))
    found, group, size = [], [], base
    for item in items:
        grown = size + len(_compact(item)) + (1 if group else 0)
        full = (max_items and len(group) >= max_items) or (max_bytes and grown > max_bytes)
        if group and full:
            found.append(payload(group))
            group, grown = [], base + len(_compact(item))
        group.append(item)
        size = grown
    if group:
        found.append(payload(group))
    return found


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Child:
    """One child workflow execution of a map run, as a result file lists it."""

    index: int
    arn: str
    name: str
    state_machine_arn: str
    input: Any
    status: str = "PENDING"  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: str | None = None
    stop: str | None = None
    redrive_count: int = 0
    source: Any = None  # the item (or batch) as read, before ItemSelector: what a redrive runs again

    def record(self) -> dict[str, Any]:
        """The child's entry in its result file (the NONE transformation: metadata and JSON text)."""
        if self.status == "PENDING":
            return {"Input": json.dumps(self.input), "InputDetails": {"Included": True}, "Status": "PENDING"}
        found: dict[str, Any] = {"ExecutionArn": self.arn, "Input": json.dumps(self.input),
                                 "InputDetails": {"Included": True}, "Name": self.name}  # fmt: skip
        if self.status == "SUCCEEDED":
            found.update(Output=json.dumps(self.output), OutputDetails={"Included": True})
        else:
            found.update({k: v for k, v in (("Error", self.error), ("Cause", self.cause)) if v is not None})
        found["RedriveCount"] = self.redrive_count
        if self.status == "SUCCEEDED":
            found.update(RedriveStatus="NOT_REDRIVABLE",
                         RedriveStatusReason="Execution is SUCCEEDED and cannot be redriven")  # fmt: skip
        else:
            found["RedriveStatus"] = "REDRIVABLE_BY_MAP_RUN"
        found.update(StartDate=self.start, StateMachineArn=self.state_machine_arn, Status=self.status)
        if self.stop is not None:
            found["StopDate"] = self.stop
        return found


_FILE_OF = {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "TIMED_OUT": "FAILED", "ABORTED": "FAILED",
            "PENDING": "PENDING", "RUNNING": "PENDING"}  # fmt: skip


def result_files(prefix: str, map_run_arn: str, bucket: str,
                 children: Iterable[Child]) -> tuple[str, dict[str, bytes]]:  # fmt: skip
    """The objects ResultWriter puts, `{key: body}`, and the manifest's key (written last by the caller)."""
    folder = (prefix if not prefix or prefix.endswith("/") else prefix + "/") + map_run_arn.rsplit(":", 1)[-1] + "/"
    grouped: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for child in sorted(children, key=lambda c: c.index):
        grouped[_FILE_OF[child.status]].append(child.record())
    objects: dict[str, bytes] = {}
    listed: dict[str, list[dict[str, Any]]] = {}
    for status, records in grouped.items():
        listed[status] = []
        if records:
            key = f"{folder}{status}_0.json"
            objects[key] = json.dumps(records).encode("utf-8")
            listed[status].append({"Key": key, "Size": len(objects[key])})
    manifest_key = folder + "manifest.json"
    objects[manifest_key] = json.dumps({"DestinationBucket": bucket, "MapRunArn": map_run_arn,
                                        "ResultFiles": listed}).encode("utf-8")  # fmt: skip
    return manifest_key, objects
