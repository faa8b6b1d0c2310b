"""The judge's evidence read from the endpoints: each committed manifest is read once per content, and a load's
inputs share one listing of the runs."""

from __future__ import annotations

import json
import uuid

from harness.experiment import observe


def _put_manifest(s3, bucket: str, batch: str, source_uri: str, rows: int) -> None:
    s3.put_object(Bucket=bucket, Key=f"processed/processing_date=2026-01-02/batch_id={batch}/part-0.parquet", Body=b"")
    s3.put_object(Bucket=bucket, Key=f"processed/processing_date=2026-01-02/batch_id={batch}/_manifest.json",
                  Body=json.dumps({"source_uri": source_uri, "rows_in": rows, "files": []}).encode())


def _bucket_of_batches(s3, name: str, committed: int) -> str:
    """`committed` batches with a manifest (sources s3://raw/incoming/<i>.csv, rows_in 10 + i), one without."""
    bucket = f"{name}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for i in range(committed):
        _put_manifest(s3, bucket, f"b{i}", f"s3://raw/incoming/{i}.csv", rows=10 + i)
    s3.put_object(Bucket=bucket, Key="processed/processing_date=2026-01-02/batch_id=half/part-0.parquet", Body=b"")
    return bucket


def _count_calls(monkeypatch, operation: str) -> list[dict]:
    """The params of every `operation` (an S3 API name) the judge's clients send from now on."""
    calls: list[dict] = []
    real_client = observe.aws_client

    def counting_client(service, env, **kwargs):
        client = real_client(service, env, **kwargs)
        client.meta.events.register(f"provide-client-params.s3.{operation}", lambda params, **_: calls.append(params))
        return client

    monkeypatch.setattr(observe, "aws_client", counting_client)
    return calls


def test_each_manifest_is_read_once_until_its_content_changes_and_a_batch_without_one_is_incomplete(
    stepbricks, monkeypatch
):
    bucket = _bucket_of_batches(stepbricks.client("s3"), "observe-spec", committed=3)
    gets = _count_calls(monkeypatch, "GetObject")

    first, _, incomplete = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/1.csv")
    assert first is not None and first["rows_in"] == 11 and first["output_uri"].endswith("batch_id=b1")
    assert incomplete == ["processed/processing_date=2026-01-02/batch_id=half"]
    assert len(gets) == 3

    second, _, _ = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/2.csv")
    assert second is not None and second["rows_in"] == 12
    assert len(gets) == 3  # the same three contents: nothing read again

    _put_manifest(stepbricks.client("s3"), bucket, "b2", "s3://raw/incoming/2.csv", rows=99)  # a re-run's commit
    third, _, _ = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/2.csv")
    assert third is not None and third["rows_in"] == 99
    assert [g["Key"] for g in gets[3:]] == ["processed/processing_date=2026-01-02/batch_id=b2/_manifest.json"]


def test_a_held_listing_of_the_batches_gives_the_same_evidence_without_listing_again(stepbricks, monkeypatch):
    bucket = _bucket_of_batches(stepbricks.client("s3"), "observe-held", committed=2)
    listings = _count_calls(monkeypatch, "ListObjectsV2")
    held = observe.list_batches(observe.aws_client("s3", stepbricks.env), bucket)
    assert sorted(held) == [f"processed/processing_date=2026-01-02/batch_id={b}" for b in ("b0", "b1", "half")]
    assert len(listings) == 1

    fresh = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/1.csv", ids=False)
    judged = observe.batch_evidence(stepbricks.env, bucket, source_uri="s3://raw/incoming/1.csv", ids=False,
                                    listed=held)
    assert judged == fresh and judged[0]["rows_in"] == 11
    assert len(listings) == 2  # the fresh look listed; the held one did not


class _Workspace:
    """runs/list of a workspace whose runs are `runs` (job id -> runs), counting the listings."""

    def __init__(self, runs: dict[int, list[dict]]):
        self.runs, self.listings = runs, []
        self.api_client = self

    def do(self, method: str, path: str, query: dict) -> dict:
        assert (method, path) == ("GET", "/api/2.1/jobs/runs/list")
        self.listings.append(query["job_id"])
        runs, offset = self.runs[query["job_id"]], query["offset"]
        return {"runs": runs[offset:offset + 25], "has_more": offset + 25 < len(runs)}


def _run(run_id: int, state: str, **params: str) -> dict:
    return {"run_id": run_id, "state": {"life_cycle_state": state},
            "job_parameters": [{"name": k, "value": v} for k, v in params.items()]}


def test_a_held_listing_of_the_runs_is_judged_without_asking_again_unless_this_inputs_run_is_still_active(
    monkeypatch
):
    """A load judges N inputs from one listing taken after every flight ended: listing every run of the load
    for each input read N² runs (1.15 s an input at 100 inputs)."""
    mine, batch = "s3://raw/incoming/0.csv", "s3://processed/processed/batch_id=a"
    held = {"etl": [_run(1, "TERMINATED", source_uri=mine), _run(2, "RUNNING", source_uri="s3://raw/incoming/1.csv")],
            "train": [_run(3, "TERMINATED", processed_uri=batch)]}
    workspace = _Workspace({10: held["etl"], 11: held["train"]})
    monkeypatch.setattr(observe, "workspace_client", lambda env: workspace)
    jobs = {"etl": 10, "train": 11}

    by_job, active = observe.runs_for_input({}, jobs, mine, batch, known_runs=held)
    assert [r["run_id"] for r in by_job["etl"]] == [1] and [r["run_id"] for r in by_job["train"]] == [3]
    assert active == [] and workspace.listings == []  # another input's active run is not this one's concern

    held_then = {**held, "etl": [_run(1, "RUNNING", source_uri=mine)]}  # still running when the listing was taken
    by_job, active = observe.runs_for_input({}, jobs, mine, batch, known_runs=held_then)
    assert workspace.listings == [10, 11]  # asked again, and judged on what the workspace says now
    assert by_job["etl"][0]["state"]["life_cycle_state"] == "TERMINATED" and active == []


def test_all_runs_lists_each_job_once_page_by_page_from_the_given_start(monkeypatch):
    workspace = _Workspace({10: [_run(i, "TERMINATED") for i in range(30)], 11: []})  # 30: two pages of 25
    seen: list[dict] = []
    real_do = workspace.do
    monkeypatch.setattr(workspace, "do", lambda method, path, query: seen.append(query) or real_do(method, path, query))
    monkeypatch.setattr(observe, "workspace_client", lambda env: workspace)

    listed = observe.all_runs({}, {"etl": 10, "train": 11}, since_ms=1_000)
    assert [len(listed["etl"]), len(listed["train"])] == [30, 0]
    assert [(q["job_id"], q["offset"]) for q in seen] == [(10, 0), (10, 25), (11, 0)]
    assert all(q["start_time_from"] == 1_000 for q in seen)
