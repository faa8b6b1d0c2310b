"""`stepbricks run`: upload input, let the real trigger start the pipeline, follow it, summarise it."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.clients import aws_client
from harness.deploy import Deployment, set_trigger_target
from harness.follow import ExecutionTrace, follow
from harness.map_results import map_results, walk


@dataclass
class RunResult:
    variant: str
    input_uri: str
    execution_arn: str
    trace: ExecutionTrace
    databricks_runs: list[dict] = field(default_factory=list)
    run_outputs: dict[int, dict] = field(default_factory=dict)  # task run id -> runs/get-output
    notifications: list[dict] = field(default_factory=list)
    wall_seconds: float | None = 0.0
    map_results: list[dict] = field(default_factory=list)  # child records a Distributed Map's ResultWriter wrote

    @property
    def succeeded(self) -> bool:
        return self.trace.status == "SUCCEEDED"

    def step_output(self, key: str) -> Any:
        """The Databricks job output the state machine stored under `$.<key>` (etl, train, evaluate)."""
        output = self.trace.output if isinstance(self.trace.output, dict) else {}
        value = output.get(key)
        if value is None:
            for visit in reversed(self.trace.visits):
                if isinstance(visit.output, dict) and key in visit.output:
                    value = visit.output[key]
                    break
        if value is None:  # the Map variant: each file's ETL is in its child's result, read from ResultWriter
            value = next((r["Output"][key] for r in self.map_results
                          if isinstance(r.get("Output"), dict) and r["Output"].get(key) is not None), None)  # fmt: skip
        return _unwrap(value)


def _unwrap(value: Any) -> Any:
    """Dig out the notebook's exit JSON from a check-job result ({..., "output": {...}})."""
    if isinstance(value, dict) and isinstance(value.get("output"), dict):
        return value["output"]
    return value


def upload_input(env: Mapping[str, str], deployment: Deployment, path: Path, *, key: str | None = None) -> str:
    s3 = aws_client("s3", env)
    key = key or f"incoming/{path.name}"
    s3.upload_file(str(path), deployment.buckets["raw"], key)
    return f"s3://{deployment.buckets['raw']}/{key}"


def find_execution(
    env: Mapping[str, str], state_machine_arn: str, *, bucket: str, key: str, etag: str, timeout: float = 60.0
) -> str:
    """The execution the S3 trigger started for this object version (newest first; matched on the input).

    An execution's input never changes, so each other execution is read once: until the trigger has started
    this one, every poll read every execution the machine had run (a session's deployment holds dozens)."""
    sfn = aws_client("stepfunctions", env)
    deadline = time.monotonic() + timeout
    others: set[str] = set()
    while time.monotonic() < deadline:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
            for ex in page["executions"]:
                arn = ex["executionArn"]
                if arn in others:
                    continue
                data = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")
                same_object = data.get("bucket") == bucket and data.get("key") == key
                if same_object and data.get("etag", etag).strip('"') == etag:
                    return arn
                others.add(arn)
        time.sleep(0.3)
    raise TimeoutError(f"no execution of {state_machine_arn} started for s3://{bucket}/{key} within {timeout:.0f} s")


def run_pipeline(
    env: Mapping[str, str],
    deployment: Deployment,
    input_path: Path,
    *,
    variant: str = "polling",
    on_update: Callable[[ExecutionTrace], None] = lambda _t: None,
    notifications: Callable[[], list[dict]] | None = None,
    timeout: float = 1800.0,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Fly the pipeline once on `input_path` through the real trigger (or a direct start for `map`). `sleep` is
    the wait between polls of its history (an embedded simulator's `history_waiter` ends it at the next event)."""
    started = time.monotonic()
    if variant in deployment.unsupported:
        raise ValueError(f"the {variant} variant is not deployed: {deployment.unsupported[variant]}")
    sm_arn = deployment.state_machines[variant]
    sfn = aws_client("stepfunctions", env)
    if variant == "map":
        digest = hashlib.sha256(input_path.read_bytes()).hexdigest()[:12]
        key = f"batches/{digest}/{input_path.name}"
        input_uri = upload_input(env, deployment, input_path, key=key)
        execution_arn = sfn.start_execution(
            stateMachineArn=sm_arn,
            name=f"map-{digest}-{int(time.time() * 1000)}",
            input=json.dumps({"bucket": deployment.buckets["raw"], "prefix": f"batches/{digest}/"}),
        )["executionArn"]
    else:
        set_trigger_target(env, deployment, variant)
        input_uri = upload_input(env, deployment, input_path)
        bucket, key = input_uri.removeprefix("s3://").split("/", 1)
        etag = aws_client("s3", env).head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        execution_arn = find_execution(env, sm_arn, bucket=bucket, key=key, etag=etag)
    trace = follow(sfn, execution_arn, sleep=sleep, on_update=on_update, timeout=timeout)
    result = RunResult(
        variant=variant,
        input_uri=input_uri,
        execution_arn=execution_arn,
        trace=trace,
        wall_seconds=time.monotonic() - started,
    )
    result.map_results = map_results(env, trace)
    result.databricks_runs = databricks_runs_of(env, deployment, trace, result.map_results)
    result.run_outputs = task_outputs(env, result.databricks_runs)
    if notifications is not None:
        result.notifications = notifications()
    return result


def databricks_runs_of(env: Mapping[str, str], deployment: Deployment | None, trace: ExecutionTrace,
                       map_records: Sequence[dict] = ()) -> list[dict]:
    """The Databricks runs this execution started (run ids appear in the start-job outputs, the Map variant's in
    its children's results)."""
    from harness.clients import workspace_client

    run_ids: list[int] = []
    for out in [visit.output for visit in trace.visits] + [r.get("Output") for r in map_records]:
        for value in walk(out):
            is_run = isinstance(value, dict) and {"run_id", "job_id", "run_page_url"} <= value.keys()
            if is_run and int(value["run_id"]) not in run_ids:
                run_ids.append(int(value["run_id"]))
    if not run_ids:
        return []
    w = workspace_client(env)
    runs = []
    for run_id in run_ids:
        run = w.api_client.do("GET", "/api/2.1/jobs/runs/get", query={"run_id": run_id})
        runs.append(run)
    return runs


def task_outputs(env: Mapping[str, str], runs: list[dict]) -> dict[int, dict]:
    """runs/get-output of every task run (the parent of a multi-task run has none)."""
    from harness.clients import workspace_client

    if not runs:
        return {}
    w = workspace_client(env)
    outputs = {}
    for run in runs:
        for task in run.get("tasks", []):
            outputs[int(task["run_id"])] = w.api_client.do(
                "GET", "/api/2.1/jobs/runs/get-output", query={"run_id": task["run_id"]}
            )
    return outputs
