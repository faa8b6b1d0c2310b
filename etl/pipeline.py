"""The ETL job: raw customer file in, processed Parquet + quarantine + manifest out, summary returned.

`run_etl` is what the Databricks notebook calls. It is idempotent per input (see `etl.batches`): the
same source content always lands in the same batch directory; a re-run with a matching manifest is
skipped, any other re-run deletes the batch and writes it again, manifest last.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from typing import Literal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from etl import transform
from etl.batches import BatchLocation, locate
from etl.quality import quality
from etl.schema import CORRUPT_COLUMN, PROCESSED_SCHEMA, RAW_SCHEMA_WITH_CORRUPT, SCHEMA_VERSION
from etl.storage import Storage
from etl.transform import non_blank

__all__ = ["EtlError", "run_etl"]

SourceFormat = Literal["csv", "jsonl", "json_array"]
MAX_QUARANTINE_SHARE = 0.10
_SNIFF_BYTES = 64 * 1024


class EtlError(RuntimeError):
    """The ETL cannot produce a trustworthy batch; the message says which input and what went wrong."""


def run_etl(
    spark: SparkSession,
    *,
    source_uri: str,
    processed_root: str,
    quarantine_root: str,
    processing_date: str | date | None = None,
    storage: Storage | None = None,
    max_quarantine_share: float = MAX_QUARANTINE_SHARE,
) -> dict:
    """Process one raw file; returns the summary the notebook exits with (see `summary_of`).

    `processing_date` is "YYYY-MM-DD", a date, or None/"" for today (UTC). `storage` defaults to
    `Storage.from_env(spark)` (and is then closed here).
    """
    day = _processing_date(processing_date)
    own_storage = storage is None
    storage = storage or Storage.from_env(spark)
    try:
        location = locate(
            source_uri,
            storage.version(source_uri),
            processed_root=processed_root,
            quarantine_root=quarantine_root,
        )
        existing = storage.get_json(location.manifest_uri)
        if _still_valid(storage, existing, location, day):
            return summary_of(existing, skipped=True)  # type: ignore[arg-type]
        manifest = _write_batch(spark, storage, source_uri, location, day, max_quarantine_share)
        return summary_of(manifest, skipped=False)
    finally:
        if own_storage:
            storage.close()


def summary_of(manifest: dict, *, skipped: bool) -> dict:
    """The notebook's exit JSON: counts, where things are, data-quality results."""
    keys = (
        "rows_in",
        "rows_written",
        "rows_quarantined",
        "quarantine_reasons",
        "output_uri",
        "quarantine_uri",
        "manifest_uri",
        "dq",
        "batch_id",
        "processing_date",
        "source_uri",
    )
    return {"status": "SUCCEEDED", **{k: manifest[k] for k in keys}, "skipped": skipped}


def _processing_date(value: str | date | None) -> date:
    if isinstance(value, date):
        return value
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise EtlError(f"processing_date must be YYYY-MM-DD or empty, got {value!r}") from exc


def _still_valid(storage: Storage, manifest: object, location: BatchLocation, day: date) -> bool:
    """A committed batch of the same input, date and schema whose files are all still there."""
    if not isinstance(manifest, dict):
        return False
    if (manifest.get("schema_version"), manifest.get("processing_date")) != (SCHEMA_VERSION, day.isoformat()):
        return False
    present = set(storage.list(location.output_uri)) | set(storage.list(location.quarantine_uri))
    return set(manifest.get("files", [])) | set(manifest.get("quarantine_files", [])) <= present


def _write_batch(
    spark: SparkSession,
    storage: Storage,
    source_uri: str,
    location: BatchLocation,
    day: date,
    max_share: float,
) -> dict:
    # Un-commit first: from here until the new manifest lands, readers skip this batch.
    storage.delete(location.manifest_uri)
    storage.delete_prefix(location.output_uri)
    storage.delete_prefix(location.quarantine_uri)

    fmt = detect_format(source_uri, storage.get_bytes(source_uri, first=_SNIFF_BYTES) or b"")
    raw, rows_in = _parse(spark, storage, source_uri, fmt)
    configured = int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    partitions = transform.partitions_for(rows_in, configured=configured)
    classified = transform.mark_duplicates(transform.validate(raw), partitions=partitions).persist()
    try:
        tally = _tally(classified)
        by_reason = {reason: count for reason, (count, _, _) in tally.items() if reason is not None}
        written, distinct_ids, churned = tally.get(None, (0, 0, 0))
        quarantined = sum(by_reason.values())
        if rows_in != written + quarantined:  # the invariant; a failure here is a bug, never bad data
            raise EtlError(
                f"{source_uri}: rows in ({rows_in}) != rows written ({written}) + rows quarantined ({quarantined})"
            )
        dq = quality(
            rows_in=rows_in,
            written=written,
            quarantined=quarantined,
            distinct_ids=distinct_ids,
            churned=churned,
            max_share=max_share,
        )
        files = storage.write_parquet(
            transform.processed(classified, source_file=source_uri, processing_date=day),
            location.output_uri,
            partition_by=["processing_date"],
        )
        quarantine_files = storage.write_parquet(
            transform.quarantined(classified, source_file=source_uri, processing_date=day),
            location.quarantine_uri,
            partition_by=["processing_date"],
        )
    finally:
        classified.unpersist()
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "batch_id": location.batch_id,
        "source_uri": source_uri,
        "source_format": fmt,
        "processing_date": day.isoformat(),
        "rows_in": rows_in,
        "rows_written": written,
        "rows_quarantined": quarantined,
        "quarantine_reasons": dict(sorted(by_reason.items())),
        "output_uri": location.output_uri,
        "quarantine_uri": location.quarantine_uri,
        "manifest_uri": location.manifest_uri,
        "files": files,
        "quarantine_files": quarantine_files,
        "schema": PROCESSED_SCHEMA.jsonValue(),
        "dq": dq,
    }
    storage.put_json(location.manifest_uri, manifest)  # last: this is the commit
    return manifest


def _tally(classified: DataFrame) -> dict[str | None, tuple[int, int, int]]:
    """Per reason (None = valid): rows, distinct customer_ids and churned rows, in one Spark action."""
    rows = (
        classified.groupBy("reason")
        .agg(F.expr("count(1) AS rows"), F.expr("count(DISTINCT customer_id) AS ids"), F.expr("sum(churned) AS churned"))
        .collect()
    )
    return {r["reason"]: (int(r["rows"]), int(r["ids"] or 0), int(r["churned"] or 0)) for r in rows}


def detect_format(uri: str, head: bytes) -> SourceFormat:
    """By extension, and by the first character for `.json` (an array or JSON lines) and unknown names."""
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    name = uri.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if first == b"[":
        return "json_array"
    if first == b"{" or name.endswith(".json"):
        return "jsonl"
    return "csv"


def _parse(spark: SparkSession, storage: Storage, uri: str, fmt: SourceFormat) -> tuple[DataFrame, int]:
    """The raw frame (one row per record) and the number of records, counted from the input itself.

    For text formats the count, the header and the line numbers come from one pass (`number_lines`).
    """
    if fmt == "json_array":
        records = storage.read_json(
            uri,
            schema=RAW_SCHEMA_WITH_CORRUPT,
            multiLine="true",
            mode="PERMISSIVE",
            columnNameOfCorruptRecord=CORRUPT_COLUMN,
        )
        return transform.parse_json_records(records), records.count()
    numbered = transform.number_lines(storage.read_text(uri))
    lines = numbered.frame
    if fmt == "jsonl":
        return transform.parse_json_lines(lines.where(non_blank(lines))), numbered.non_blank
    header = _split_header(numbered.first_line or "")
    data = lines.where(F.expr("line_number > 1") & non_blank(lines))
    return transform.parse_csv(data, header), numbered.non_blank - (0 if numbered.first_is_blank else 1)


def _split_header(line: str) -> list[str]:
    cells = next(csv.reader([line.lstrip("\ufeff")]), [])
    return [c.strip() for c in cells]
