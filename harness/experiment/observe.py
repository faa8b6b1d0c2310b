"""What one input's flight left behind, read from the endpoints (any backend): the invariants' evidence.

The unit is the *input object* (one upload), not one execution: a correct trigger maps an object to
exactly one execution, and an incorrect one (a duplicate delivery starting a second execution) is
exactly what the invariants must be able to see.
"""

from __future__ import annotations

import functools
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
Batches = dict[str, dict[str, str]]  # batch dir -> {object key: ETag}, of the processed bucket


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


class Clients:
    """The judge's clients of one simulator, made once: making them again for each input was a quarter of a
    load's judging (a databricks-sdk WorkspaceClient resolves its configuration each time)."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    @functools.cached_property
    def s3(self) -> Any:
        return aws_client("s3", self.env)

    @functools.cached_property
    def sfn(self) -> Any:
        return aws_client("stepfunctions", self.env)

    @functools.cached_property
    def workspace(self) -> Any:
        return workspace_client(self.env)


@dataclass
class Snapshot:
    """What every input of a load shares, read once after every flight ended: judging each of N inputs from
    its own listings read N executions, 3N runs and every batch's objects N times over.

    Taken in this order: executions (all ended, every trigger settled), runs, then batches, so a run that is
    terminal here had finished writing before the batches were listed."""

    executions: list[str]
    runs: dict[str, list[dict]]
    batches: Batches


def take_snapshot(clients: Clients, state_machine_arn: str, jobs: Mapping[str, int], processed_bucket: str,
                  since_ms: int | None) -> Snapshot:
    executions = list_executions(clients.sfn, state_machine_arn)
    runs = all_runs(clients.env, jobs, since_ms, client=clients.workspace)
    return Snapshot(executions, runs, list_batches(clients.s3, processed_bucket))


_INPUTS: dict[str, tuple[str, str]] = {}  # execution ARN -> (bucket, key) of its input: never changes
# (bucket, key, ETag) -> manifest JSON. S3's ETag of a PutObject upload is the MD5 of its bytes (S3 user guide,
# "Checking object integrity"; multipart and SSE-KMS/SSE-C objects get another value, which a rewrite changes
# too), so a cached body is never stale.
_MANIFESTS: dict[tuple[str, str, str], dict] = {}


def executions_for(env: Mapping[str, str], state_machine_arn: str, bucket: str, key: str, *, sfn: Any = None,
                   listed: list[str] | None = None) -> list[str]:
    """Every execution of the state machine whose input names s3://bucket/key. `listed`: the state machine's
    executions (`list_executions`) when the caller holds a listing taken after every trigger settled."""
    sfn = sfn or aws_client("stepfunctions", env)
    found = []
    for arn in list_executions(sfn, state_machine_arn) if listed is None else listed:
        if arn not in _INPUTS:
            data = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")
            _INPUTS[arn] = (str(data.get("bucket")), str(data.get("key")))
        if _INPUTS[arn] == (bucket, key):
            found.append(arn)
    return found


def list_executions(sfn: Any, state_machine_arn: str) -> list[str]:
    return [ex["executionArn"] for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn) for ex in page["executions"]]


def traces_of(env: Mapping[str, str], arns: list[str], *, sfn: Any = None) -> list[ExecutionTrace]:
    sfn = sfn or aws_client("stepfunctions", env)
    traces = []
    for arn in arns:
        trace = trace_from_history(arn, poll_history(sfn, arn))
        trace.status = sfn.describe_execution(executionArn=arn)["status"]
        traces.append(trace)
    return traces


def runs_for_input(env: Mapping[str, str], jobs: Mapping[str, int], input_uri: str, batch_uri: str | None,
                   settle_seconds: float = 120.0, since_ms: int | None = None,
                   known_runs: Mapping[str, list[dict]] | None = None, *, client: Any = None,
                   ) -> tuple[dict[str, list[dict]], list[int]]:
    """This input's runs of each job, after waiting (bounded) for every one of them to settle.

    A run belongs to the input when its job parameters name the input (etl: source_uri) or the batch the
    input's ETL wrote (train/evaluate: processed_uri). `since_ms`: only runs started at or after it
    (runs/list's `start_time_from`). `known_runs` (job key -> runs, `all_runs`): a listing the caller already
    holds, taken after the flights ended, used for the first look; runs/list is asked again only while one of
    this input's runs is still active in it."""
    w = client
    deadline = time.monotonic() + settle_seconds
    while True:
        if known_runs is None:
            w = w or workspace_client(env)
            listed = all_runs(env, jobs, since_ms, client=w)
        else:
            listed, known_runs = known_runs, None
        by_job = runs_naming(listed, input_uri, batch_uri)
        active = active_runs(by_job)
        if not active or time.monotonic() >= deadline:
            return by_job, active
        time.sleep(0.5)


def all_runs(env: Mapping[str, str], jobs: Mapping[str, int], since_ms: int | None = None, *,
             client: Any = None) -> dict[str, list[dict]]:
    """Every run of each job (job key -> runs) started at or after `since_ms`: one listing that a load shares
    among its inputs (each input listing every run of the load was N² runs read for N inputs)."""
    w = client or workspace_client(env)
    return {key: _all_runs(w, job_id, since_ms) for key, job_id in jobs.items()}


def runs_naming(runs: Mapping[str, list[dict]], input_uri: str, batch_uri: str | None) -> dict[str, list[dict]]:
    """Of each job's runs, those of this input: their parameters name it or the batch its ETL wrote."""
    return {key: [r for r in listed if _names(r, input_uri, batch_uri)] for key, listed in runs.items()}


def active_runs(by_job: Mapping[str, list[dict]]) -> list[int]:
    return [r["run_id"] for runs in by_job.values() for r in runs
            if r.get("state", {}).get("life_cycle_state") in ACTIVE_STATES]


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


def list_batches(s3: Any, processed_bucket: str, prefix: str = "processed/") -> Batches:
    """The batch directories under `prefix` and their objects (one listing, every page)."""
    dirs: Batches = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=processed_bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            head, sep, _ = obj["Key"].partition("/batch_id=")
            if sep:
                batch = obj["Key"].split("/")[len(head.split("/"))]
                dirs.setdefault(f"{head}/{batch}", {})[obj["Key"]] = obj.get("ETag", "")
    return dirs


def batch_evidence(env: Mapping[str, str], processed_bucket: str, prefix: str = "processed/",
                   source_uri: str | None = None, *, ids: bool = True, s3: Any = None,
                   listed: Batches | None = None) -> tuple[dict | None, list[str], list[str]]:
    """(the manifest naming `source_uri`, customer ids of its rows, batch dirs with data but no manifest).

    The manifest is found by what it says, wherever the pipeline wrote it, so every committed manifest is
    read; each is read once per content (its ETag): judging each of N inputs read all N manifests again, N²
    GETs for a load or an experiment. `ids=False` skips reading the batch's rows. `listed`: a `list_batches`
    the caller holds, taken after every writer of the batches ended."""
    s3 = s3 or aws_client("s3", env)
    dirs = list_batches(s3, processed_bucket, prefix) if listed is None else listed
    incomplete = [d for d, keys in dirs.items() if not any(k.endswith(MANIFEST) for k in keys)]
    manifest, row_ids = None, []
    for directory, keys in dirs.items():
        key = f"{directory}/{MANIFEST}"
        if key not in keys:
            continue
        body = _read_manifest(s3, processed_bucket, key, keys[key])
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
