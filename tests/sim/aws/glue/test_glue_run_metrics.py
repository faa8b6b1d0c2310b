"""The metrics a Glue job run emits when it ends (CloudWatch namespace `Glue`, Type=count)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from sim.aws import metrics
from sim.aws.glue import GlueJobRun
from sim.aws.moto_seams import cloudwatch

START = datetime.datetime(2026, 1, 1, 9, tzinfo=datetime.UTC)


def _run(lasting: datetime.timedelta, status: str = "SUCCEEDED") -> GlueJobRun:
    return GlueJobRun(job_name="j", job_run_id="jr_1", attempt=0, arguments={}, timeout_minutes=10, max_retries=0,
                      status=status, started_on=START, last_modified_on=START + lasting,
                      completed_on=START + lasting)


def _emitted(run: GlueJobRun, monkeypatch: pytest.MonkeyPatch) -> list[metrics.Datum]:
    recorded: list[metrics.Datum] = []
    monkeypatch.setattr(cloudwatch, "record", lambda account, region, data: recorded.extend(data))
    cloudwatch._glue_run_ended(run, SimpleNamespace(name="j", account_id="123456789012", region="us-east-1"))
    return recorded


def test_a_sub_second_run_reports_its_milliseconds_as_elapsed_time_though_its_execution_time_is_0(monkeypatch):
    # ExecutionTime is whole seconds (GetJobRun); glue.driver.aggregate.elapsedTime is milliseconds (Glue's
    # job monitoring metrics). A run of a few rows on a warm JVM ends within a second: its elapsed time is not 0.
    run = _run(datetime.timedelta(milliseconds=400))

    emitted = _emitted(run, monkeypatch)

    assert run.execution_time_s == run.as_dict()["ExecutionTime"] == 0
    elapsed = [d for d in emitted if d.name == "glue.driver.aggregate.elapsedTime"]
    assert [(d.value, d.unit) for d in elapsed] == [(400.0, "Milliseconds")] * 2  # this run's id, and ALL
    assert {dict(d.dimensions)["JobRunId"] for d in elapsed} == {"jr_1", "ALL"}


def test_execution_time_counts_whole_seconds_and_elapsed_time_the_same_span_in_milliseconds(monkeypatch):
    run = _run(datetime.timedelta(seconds=61, milliseconds=750), status="FAILED")

    emitted = {(d.name, dict(d.dimensions)["JobRunId"]): d.value for d in _emitted(run, monkeypatch)}

    assert run.execution_time_s == 61
    assert emitted[("glue.driver.aggregate.elapsedTime", "jr_1")] == 61_750.0
    assert emitted[("glue.driver.aggregate.numFailedTasks", "jr_1")] == 1.0
