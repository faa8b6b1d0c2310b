"""Where the Map variant's results are: every ResultWriterDetails its states produced (`harness.map_results`)."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.follow import ExecutionTrace, StateVisit
from harness.map_results import result_writer_details

WRITTEN = {"MapRunArn": "arn:aws:states:us-east-1:1:mapRun:sm/x:1",
           "ResultWriterDetails": {"Bucket": "results", "Key": "map-runs/1/manifest.json"}}  # fmt: skip


def _visit(name: str, output: object) -> StateVisit:
    return StateVisit(name=name, type="Map", entered=datetime(2026, 1, 1, tzinfo=UTC), output=output)


def test_the_manifest_is_found_wherever_the_map_state_put_it_and_listed_once() -> None:
    trace = ExecutionTrace(execution_arn="arn:x", visits=[
        _visit("ProcessFiles", {"bucket": "raw", "files": WRITTEN}),
        _visit("StartTrain", {"files": WRITTEN, "train": {"run_id": 1}})], output={"files": WRITTEN})  # fmt: skip
    assert result_writer_details(trace) == [{"Bucket": "results", "Key": "map-runs/1/manifest.json"}]


def test_an_execution_without_a_result_writer_has_no_map_results() -> None:
    trace = ExecutionTrace(execution_arn="arn:x", visits=[_visit("Files", [{"key": "a"}])], output=[{"key": "a"}])
    assert result_writer_details(trace) == []
