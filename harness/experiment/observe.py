"""What one input's flight left behind, read from the endpoints (any backend): the invariants' evidence.

The unit is the *input object* (one upload), not one execution: a correct trigger maps an object to
exactly one execution, and an incorrect one (a duplicate delivery starting a second execution) is
exactly what the invariants must be able to see.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.clients import aws_client, workspace_client
from harness.follow import ExecutionTrace, poll_history, trace_from_history

ACTIVE_STATES = {"PENDING", "QUEUED", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"}
MANIFEST = "_manifest.json"


@dataclass
class Observation:
    """Evidence for one input. `expected` is what the data generator promised (rows, clean rows, reasons)."""

    input_uri: str
    key: str
    expected: Mapping[str, Any]
    expects_success: bool | None  # None: the plan's faults may or may not change the outcome
    definition: Mapping[str, Any]
    traces: list[ExecutionTrace] = field(default_factory=list)
    runs_by_job: dict[str, list[dict]] = field(default_factory=dict)  # job key -> runs/get of this input's runs
    notifications: list[dict] = field(default_factory=list)  # SNS messages that mention this input's key
    manifest: dict | None = None  # the committed ETL manifest of this input's batch, if any
    written_ids: list[str] = field(default_factory=list)  # customer_id of every processed row of the batch
    incomplete_batches: list[str] = field(default_factory=list)  # batch dirs holding data but no manifest
    unsettled_runs: list[int] = field(default_factory=list)  # runs still active after the settle timeout

    @property
    def trace(self) -> ExecutionTrace | None:
        return self.traces[0] if self.traces else None


_INPUTS: dict[str, tuple[str, str]] = {}  # execution ARN -> (bucket, key) of its input: never changes
# (bucket, key, ETag) -> manifest JSON. S3's ETag of a PutObject upload is the MD5 of its bytes (S3 user guide,
# "Checking object integrity"; multipart and SSE-KMS/SSE-C objects get another value, which a rewrite changes
# too), so a cached body is never stale.
_MANIFESTS: dict[tuple[str, str, str], dict] = {}


def executions_for(env: Mapping[str, str], state_machine_arn: str, bucket: str, key: str) -> list[str]:
    """Every execution of the state machine whose input names s3://bucket/key."""
    sfn = aws_client("stepfunctions", env)
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        for ex in page["executions"]:
            arn = ex["executionArn"]
            if arn not in _INPUTS:
                data = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")
                _INPUTS[arn] = (str(data.get("bucket")), str(data.get("key")))
            if _INPUTS[arn] == (bucket, key):
                found.append(arn)
    return found


def traces_of(env: Mapping[str, str], arns: list[str]) -> list[ExecutionTrace]:
    sfn = aws_client("stepfunctions", env)
    traces = []
    for arn in arns:
        trace = trace_from_history(arn, poll_history(sfn, arn))
        trace.status = sfn.describe_execution(executionArn=arn)["status"]
        traces.append(trace)
    return traces


def runs_for_input(env: Mapping[str, str], jobs: Mapping[str, int], input_uri: str, batch_uri: str | None,
                   settle_seconds: float = 120.0, since_ms: int | None = None) -> tuple[dict[str, list[dict]], list[int]]:
    """This input's runs of each job, after waiting (bounded) for every one of them to settle.

    A run belongs to the input when its job parameters name the input (etl: source_uri) or the batch the
    input's ETL wrote (train/evaluate: processed_uri). `since_ms`: only runs started at or after it
    (runs/list's `start_time_from`)."""
    w = workspace_client(env)
    deadline = time.monotonic() + settle_seconds
    while True:
        by_job: dict[str, list[dict]] = {}
        for key, job_id in jobs.items():
            by_job[key] = [r for r in _all_runs(w, job_id, since_ms) if _names(r, input_uri, batch_uri)]
        active = [r["run_id"] for runs in by_job.values() for r in runs
                  if r.get("state", {}).get("life_cycle_state") in ACTIVE_STATES]
        if not active or time.monotonic() >= deadline:
            return by_job, active
        time.sleep(0.5)


def _all_runs(w: Any, job_id: int, since_ms: int | None = None) -> list[dict]:
    """Every run of the job (started at or after `since_ms`), page by page (runs/list returns at most 25)."""
    runs: list[dict] = []
    window = {} if since_ms is None else {"start_time_from": since_ms}
    while True:
        page = w.api_client.do("GET", "/api/2.1/jobs/runs/list",
                               query={"job_id": job_id, "limit": 25, "offset": len(runs), **window})
        runs.extend(page.get("runs", []))
        if not page.get("has_more") or not page.get("runs"):
            return runs


def _names(run: Mapping[str, Any], input_uri: str, batch_uri: str | None) -> bool:
    params = {p.get("name"): str(p.get("value", p.get("default", ""))) for p in run.get("job_parameters", [])}
    return params.get("source_uri") == input_uri or (batch_uri is not None and params.get("processed_uri") == batch_uri)


def notifications_for(sns_messages: list[dict], key: str) -> list[dict]:
    """SNS messages whose JSON body mentions the input key (both success and failure details carry it)."""
    return [m for m in sns_messages if json.dumps(key)[1:-1] in (m.get("message") or m.get("Message") or "")]


def batch_evidence(env: Mapping[str, str], processed_bucket: str, prefix: str = "processed/",
                   source_uri: str | None = None, *, ids: bool = True) -> tuple[dict | None, list[str], list[str]]:
    """(the manifest naming `source_uri`, customer ids of its rows, batch dirs with data but no manifest).

    The manifest is found by what it says, wherever the pipeline wrote it, so every committed manifest is
    read; each is read once per content (its ETag): judging each of N inputs read all N manifests again, N²
    GETs for a load or an experiment. `ids=False` skips reading the batch's rows."""
    s3 = aws_client("s3", env)
    dirs: dict[str, list[str]] = {}
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=processed_bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            head, sep, _ = obj["Key"].partition("/batch_id=")
            if sep:
                batch = obj["Key"].split("/")[len(head.split("/"))]
                dirs.setdefault(f"{head}/{batch}", []).append(obj["Key"])
                etags[obj["Key"]] = obj.get("ETag", "")
    incomplete = [d for d, keys in dirs.items() if not any(k.endswith(MANIFEST) for k in keys)]
    manifest, row_ids = None, []
    for directory, keys in dirs.items():
        key = f"{directory}/{MANIFEST}"
        if key not in keys:
            continue
        body = _read_manifest(s3, processed_bucket, key, etags[key])
        if body.get("source_uri") == source_uri:
            manifest = {**body, "output_uri": f"s3://{processed_bucket}/{directory}"}
            row_ids = _customer_ids(s3, body.get("files", [])) if ids else []
    return manifest, row_ids, incomplete


def _read_manifest(s3: Any, bucket: str, key: str, listed_etag: str) -> dict:
    cached = _MANIFESTS.get((bucket, key, listed_etag)) if listed_etag else None
    if cached is not None:
        return cached
    response = s3.get_object(Bucket=bucket, Key=key)
    body = json.loads(response["Body"].read())
    if response.get("ETag"):  # the ETag of the body read, which a write since the listing may have changed
        _MANIFESTS[(bucket, key, response["ETag"])] = body
    return body


def _customer_ids(s3: Any, files: list[str]) -> list[str]:
    import pyarrow.parquet as pq

    ids: list[str] = []
    for uri in files:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), columns=["customer_id"])
        ids.extend(str(v) for v in table.column("customer_id").to_pylist())
    return ids
