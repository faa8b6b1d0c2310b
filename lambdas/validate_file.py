"""Check that an uploaded file is worth running the pipeline on, without loading it into memory.

Seed 003's file validation, written properly: the object is streamed, never read whole (except a
single JSON document, which must be parsed whole, up to MAX_JSON_DOCUMENT_BYTES); the first
SAMPLE_LINES lines are parsed, the rest only counted, so a 2 GB file costs one pass and a few MB.
Bad bytes are decoded as U+FFFD rather than crashing; record-level dirt (a malformed line, a bad
encoding) is the ETL's to quarantine, so only problems that make the whole file unusable make it
invalid. `rowCount` counts non-blank lines (minus the CSV header), not CSV records spanning lines.

A CSV must carry every column named in `REQUIRED_COLUMNS` (comma-separated, set by the deploy from the
dataset's schema; matched as the ETL matches them: trimmed, case-insensitive): without one, every record
would be quarantined as `missing <column>` and the failure would surface only at training.

Input: {bucket, key}
Output: {isValid, fileType (csv|json|jsonl), rowCount, bucket, key, size, error?, columns? (CSV)}
"""

from __future__ import annotations

import csv
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

import boto3
from botocore.exceptions import ClientError

from lambdas import _events

EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SAMPLE_LINES = int(os.environ.get("VALIDATE_SAMPLE_LINES", "1000"))
MAX_JSON_DOCUMENT_BYTES = int(os.environ.get("VALIDATE_MAX_JSON_DOCUMENT_BYTES", str(64 * 1024 * 1024)))
CHUNK_BYTES = 1024 * 1024
REQUIRED_COLUMNS_ENV = "REQUIRED_COLUMNS"


class _Invalid(Exception):
    """The file is unusable; the message says why (it becomes the output's `error`)."""


def lambda_handler(event: Any, context: Any = None) -> dict[str, Any]:
    event = _events.mapping(event)
    bucket, key = _events.text(event, "bucket"), _events.text(event, "key")
    result: dict[str, Any] = {"isValid": False, "fileType": None, "rowCount": 0, "bucket": bucket, "key": key}
    extension = os.path.splitext(key)[1].lower()
    try:
        if extension not in EXTENSIONS:
            supported = ", ".join(sorted(EXTENSIONS))
            raise _Invalid(
                f"Unsupported file extension {extension or '(none)'!r}: expected one of {supported}"
            )
        result["fileType"] = EXTENSIONS[extension]
        obj = _get_object(bucket, key)
        result["size"] = size = int(obj["ContentLength"])
        if size == 0:
            raise _Invalid("File is empty (0 bytes)")
        body = obj["Body"]
        if result["fileType"] == "csv":
            result.update(_check_csv(_lines(body)))
        elif result["fileType"] == "json" and size <= MAX_JSON_DOCUMENT_BYTES:
            result.update(_check_json(body.read()))
        elif result["fileType"] == "json":
            result.update(_check_large_json(body))
        else:
            result.update(_check_jsonl(_lines(body)))
        result["isValid"] = True
    except _Invalid as problem:
        result["error"] = str(problem)
    return result


def _get_object(bucket: str, key: str) -> dict[str, Any]:
    try:
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise _Invalid(f"Object s3://{bucket}/{key} does not exist") from None
        raise  # access denied, no such bucket...: infrastructure, not the file's fault


def _lines(body: Any) -> Iterator[bytes]:
    """Lines without their endings, streamed in CHUNK_BYTES reads."""
    pending = b""
    for chunk in iter(lambda: body.read(CHUNK_BYTES), b""):
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop()
        for part in parts:
            yield part.rstrip(b"\r")
    if pending:
        yield pending.rstrip(b"\r")


class _Counted:
    """Iterates non-blank lines and counts them, so the tail of a file can be counted, not kept."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = lines
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._lines:
            if line.strip():
                self.count += 1
                yield line

    def sample_then_count(self) -> list[str]:
        """The first SAMPLE_LINES non-blank lines, decoded; the remaining ones are only counted."""
        stream = iter(self)
        sample = list(itertools.islice(stream, SAMPLE_LINES))
        if any(b"\x00" in line for line in sample[:10]):
            raise _Invalid("File is not text (it contains NUL bytes)")
        for _ in stream:
            pass
        if not sample:
            raise _Invalid("File is empty (only blank lines)")
        sample[0] = sample[0].removeprefix(b"\xef\xbb\xbf")  # UTF-8 byte order mark
        return [line.decode("utf-8", errors="replace") for line in sample]


def _check_csv(lines: Iterable[bytes]) -> dict[str, Any]:
    counted = _Counted(lines)
    sample = counted.sample_then_count()
    try:
        rows = list(csv.reader(sample))
    except csv.Error as error:
        raise _Invalid(f"Invalid CSV in the first {len(sample)} lines: {error}") from None
    header = [name.strip() for name in rows[0]]
    for position, name in enumerate(header, start=1):
        if not name:
            raise _Invalid(f"CSV header has an empty column name at position {position}: {rows[0]!r}")
    duplicates = sorted({n for n in header if header.count(n) > 1})
    if duplicates:
        raise _Invalid(f"CSV header repeats column names {duplicates}")
    missing = _missing_columns(header)
    if missing:
        hint = next((f" (is the file delimited by {d!r} rather than ','?)" for d in (";", "\t", "|")
                     if len(header) == 1 and d in header[0]), "")
        raise _Invalid(f"CSV header lacks the required columns {missing} (it has {header}){hint}")
    if counted.count == 1:
        raise _Invalid(f"CSV file has a header but no data rows (columns {header})")
    return {"rowCount": counted.count - 1, "columns": header}


def _missing_columns(header: list[str]) -> list[str]:
    required = [c.strip() for c in os.environ.get(REQUIRED_COLUMNS_ENV, "").split(",") if c.strip()]
    present = {name.lower() for name in header}
    return [c for c in required if c.lower() not in present]


def _check_json(raw: bytes) -> dict[str, Any]:
    """A `.json` file: one JSON document (array of records, or one record), else JSON lines."""
    text = raw.decode("utf-8-sig", errors="replace")
    if "\x00" in text[:8192]:
        raise _Invalid("File is not text (it contains NUL bytes)")
    if not text.strip():
        raise _Invalid("File is empty (only blank lines)")
    try:
        document = json.loads(text)
    except ValueError as error:
        if text.lstrip().startswith("{") and "\n" in text.strip():
            try:
                return {**_check_jsonl(iter(raw.split(b"\n"))), "fileType": "jsonl"}
            except _Invalid:
                pass
        raise _Invalid(f"Invalid JSON: {error}") from None
    if isinstance(document, list):
        if not document:
            raise _Invalid("JSON array is empty: no records")
        return {"rowCount": len(document)}
    if isinstance(document, dict):
        return {"rowCount": 1}
    raise _Invalid(f"JSON document is a {type(document).__name__}, not an array of records or a record")


def _check_large_json(body: Any) -> dict[str, Any]:
    """A `.json` too large to parse whole is accepted only as JSON lines (what Spark reads by default)."""
    try:
        return {**_check_jsonl(_lines(body)), "fileType": "jsonl"}
    except _Invalid as problem:
        raise _Invalid(
            f"JSON file larger than {MAX_JSON_DOCUMENT_BYTES} bytes is not JSON lines ({problem}); "
            "write large inputs as one JSON object per line"
        ) from None


def _check_jsonl(lines: Iterable[bytes]) -> dict[str, Any]:
    """JSON lines: the sample must hold records; a few malformed lines are left to the quarantine."""
    counted = _Counted(lines)
    sample = counted.sample_then_count()
    first_problem = None
    records = 0
    for number, line in enumerate(sample, start=1):
        try:
            value = json.loads(line)
        except ValueError as error:
            first_problem = first_problem or f"line {number}: {error}"
            continue
        if isinstance(value, dict):
            records += 1
        else:
            first_problem = first_problem or f"line {number}: a {type(value).__name__}, not a JSON object"
    if records == 0:
        raise _Invalid(
            f"Invalid JSON lines: none of the first {len(sample)} lines is a JSON object ({first_problem})"
        )
    return {"rowCount": counted.count}
