"""The Map variant's per-file results, read where its Distributed Map's ResultWriter put them.

A Distributed Map's children are child executions: their states are not in the parent's history, and the
state's result is only `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}` (the developer guide's
"ResultWriter (Map)"). The manifest at that key lists the SUCCEEDED/FAILED/PENDING files, each an array of
child records (`Input`/`Output` as JSON text, `Status`, `Error`, `Cause`). This is what the summary, the
report and the Databricks run lookup read instead of the parent's history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from harness.clients import aws_client
from harness.follow import ExecutionTrace

__all__ = ["map_results", "result_writer_details"]


def result_writer_details(trace: ExecutionTrace) -> list[dict[str, str]]:
    """Every `ResultWriterDetails` an execution's states produced (newest visit last, no repeats)."""
    found: list[dict[str, str]] = []
    for value in walk([visit.output for visit in trace.visits] + [trace.output]):
        details = value.get("ResultWriterDetails") if isinstance(value, dict) else None
        if isinstance(details, dict) and {"Bucket", "Key"} <= details.keys() and details not in found:
            found.append({"Bucket": details["Bucket"], "Key": details["Key"]})
    return found


def map_results(env: Mapping[str, str], trace: ExecutionTrace) -> list[dict[str, Any]]:
    """The child records of every map run the execution wrote, with `Input` and `Output` parsed."""
    written = result_writer_details(trace)
    if not written:
        return []
    s3 = aws_client("s3", env)
    records: list[dict[str, Any]] = []
    for details in written:
        manifest = _json(s3.get_object(Bucket=details["Bucket"], Key=details["Key"])["Body"].read())
        for status in ("SUCCEEDED", "FAILED", "PENDING"):
            for listed in manifest.get("ResultFiles", {}).get(status, []):
                for record in _json(s3.get_object(Bucket=details["Bucket"], Key=listed["Key"])["Body"].read()):
                    parsed = dict(record)
                    for key in ("Input", "Output"):
                        if isinstance(record.get(key), str):
                            parsed[key] = _json(record[key])
                    records.append(parsed)
    return records


def _json(data: bytes | str) -> Any:
    return json.loads(data)


def walk(value: Any) -> Iterator[Any]:
    """Every value nested in a JSON document, the document first (runner and map results search outputs)."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
