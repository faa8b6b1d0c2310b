"""`stepbricks run --variant databricks-native`: the reference pipeline as ONE multi-task Databricks job.

No state machine and no Lambda: the job is started by a file-arrival trigger on the raw bucket's
`native/incoming/` location and carries the pipeline's control flow itself (Jobs API 2.2):

    list_files ─► etl (for_each over the files) ─► check_quality ─► quality_gate (condition)
        ─[true]─► train ─► evaluate ─► model_gate (condition)

`list_files` finds the files not yet processed (the trigger does not name them) and hands them on as the
task value `files`; the For each task runs the ETL notebook once per file (`{{input}}`); the two condition
tasks read task values (`{{tasks.check_quality.values.passed}}`, `{{tasks.evaluate.values.gate_passed}}`).
A false data-quality condition excludes training, as Databricks excludes the tasks of the branch not taken;
the job run still ends SUCCESS then (excluded tasks count as successful), so the flight's verdict reads the
gates' outcomes from the run, as a team watching the job would.

The flight is read back from `runs/get` (the run, its task runs and their states) into the same
`ExecutionTrace` the Step Functions variants produce, for the same live table, summary and report.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.clients import workspace_client
from harness.deploy import NOTEBOOK_DIR, PROJECT_ROOT, Deployment
from harness.follow import ExecutionTrace, StateVisit
from harness.runner import RunResult, upload_input

VARIANT = "databricks-native"
JOB_NAME = "stepbricks-native"
LANDING_PREFIX = "native/incoming/"
NOTEBOOKS = {
    "list_new_files": PROJECT_ROOT / "etl" / "notebooks" / "list_new_files.py",
    "check_quality": PROJECT_ROOT / "etl" / "notebooks" / "check_quality.py",
}
# Databricks checks a file-arrival location about once a minute and refuses waits under 60 s.
TRIGGER_SECONDS = 60
GATES = {"quality_gate": "DataQualityRejected", "model_gate": "ModelRejected"}
STEP_OUTPUTS = {"check_quality": "etl", "train": "train", "evaluate": "evaluate"}  # task -> RunResult step


class NativeVariantError(RuntimeError):
    """The native job could not be flown (no run started, the run vanished); the message says why."""


# --- the job ---------------------------------------------------------------------------------------------
def job_spec(deployment: Deployment) -> dict[str, Any]:
    """The job's settings (`JobSettings` of the Jobs API 2.2), from what the deployment made."""
    config, buckets = deployment.config, deployment.buckets
    cluster = deployment.cluster_id

    def notebook(key: str, name: str, params: Mapping[str, str], **extra: Any) -> dict[str, Any]:
        return {"task_key": key, "existing_cluster_id": cluster, "timeout_seconds": 3600,
                "notebook_task": {"notebook_path": f"{NOTEBOOK_DIR}/{name}", "base_parameters": dict(params)},
                **extra}  # fmt: skip

    def condition(key: str, after: str, left: str) -> dict[str, Any]:
        return {"task_key": key, "depends_on": [{"task_key": after}],
                "condition_task": {"op": "EQUAL_TO", "left": left, "right": "true"}}  # fmt: skip

    p = {name: f"{{{{job.parameters.{name}}}}}" for name in (
        "landing_uri", "processed_root", "quarantine_root", "model_name", "models_root", "results_root",
        "min_roc_auc", "resource_prefix")}  # fmt: skip
    roots = {"processed_root": p["processed_root"], "quarantine_root": p["quarantine_root"]}
    return {
        "name": f"{config.prefix}{JOB_NAME}",
        "max_concurrent_runs": 1,
        "queue": {"enabled": True},  # files landing during a run start the next one after it
        "tags": {"pipeline": "stepbricks", "variant": VARIANT},
        "trigger": {"pause_status": "UNPAUSED", "file_arrival": {
            "url": f"s3://{buckets['raw']}/{LANDING_PREFIX}",
            "min_time_between_triggers_seconds": TRIGGER_SECONDS,
            "wait_after_last_change_seconds": TRIGGER_SECONDS}},
        "parameters": [
            {"name": "landing_uri", "default": f"s3://{buckets['raw']}/{LANDING_PREFIX}"},
            {"name": "processed_root", "default": f"s3://{buckets['processed']}/native/processed"},
            {"name": "quarantine_root", "default": f"s3://{buckets['processed']}/native/quarantine"},
            {"name": "model_name", "default": config.model_name},
            {"name": "models_root", "default": f"s3://{buckets['models']}/models"},
            {"name": "results_root", "default": f"s3://{buckets['results']}/evaluation"},
            {"name": "min_roc_auc", "default": str(config.min_roc_auc)},
            {"name": "resource_prefix", "default": config.prefix},
        ],
        "tasks": [
            notebook("list_files", "list_new_files", {"landing_uri": p["landing_uri"], **roots}),
            {"task_key": "etl", "depends_on": [{"task_key": "list_files"}], "for_each_task": {
                "inputs": "{{tasks.list_files.values.files}}", "concurrency": 4,
                "task": notebook("etl_file", "etl", {"source_uri": "{{input}}", **roots,
                                                     "processing_date": "{{job.start_time.iso_date}}"},
                                 max_retries=1, min_retry_interval_millis=1000)}},
            notebook("check_quality", "check_quality", {"files": "{{tasks.list_files.values.files}}", **roots},
                     depends_on=[{"task_key": "etl"}]),
            condition("quality_gate", "check_quality", "{{tasks.check_quality.values.passed}}"),
            notebook("train", "train", {"processed_uri": p["processed_root"], "model_name": p["model_name"],
                                        "models_root": p["models_root"], "seed": "42",
                                        "resource_prefix": p["resource_prefix"]},
                     depends_on=[{"task_key": "quality_gate", "outcome": "true"}]),
            notebook("evaluate", "evaluate", {"processed_uri": p["processed_root"], "model_name": p["model_name"],
                                              "model_version": "{{tasks.train.values.model_version}}",
                                              "results_root": p["results_root"], "min_roc_auc": p["min_roc_auc"],
                                              "resource_prefix": p["resource_prefix"]},
                     depends_on=[{"task_key": "train"}]),
            condition("model_gate", "evaluate", "{{tasks.evaluate.values.gate_passed}}"),
        ],
    }  # fmt: skip


def ensure_job(env: Mapping[str, str], deployment: Deployment) -> int:
    """Upload the job's own notebooks (the ETL, train and evaluate ones are deployed already) and create or
    reset the job. Arming the trigger takes the location's baseline: files already there start no run."""
    from databricks.sdk.service.workspace import ImportFormat, Language

    w = workspace_client(env)
    w.workspace.mkdirs(NOTEBOOK_DIR)
    for name, path in NOTEBOOKS.items():
        w.workspace.upload(f"{NOTEBOOK_DIR}/{name}", path.read_bytes(), format=ImportFormat.SOURCE,
                           language=Language.PYTHON, overwrite=True)  # fmt: skip
    spec = job_spec(deployment)
    for job in w.jobs.list(name=spec["name"]):
        w.api_client.do("POST", "/api/2.2/jobs/reset", body={"job_id": job.job_id, "new_settings": spec})
        return int(job.job_id)
    return int(w.api_client.do("POST", "/api/2.2/jobs/create", body=spec)["job_id"])


# --- reading the flight back -----------------------------------------------------------------------------
def _at(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def _kind(task: Mapping[str, Any]) -> str:
    return next((k for k in ("condition_task", "for_each_task", "run_job_task", "notebook_task") if k in task),
                "task")  # fmt: skip


def trace_from_run(run: Mapping[str, Any], outputs: Mapping[str, Any] | None = None) -> ExecutionTrace:
    """The job run's task runs as state visits (in start order), and the pipeline's verdict: SUCCEEDED only
    when the run succeeded and both gates took their `true` branch; a gate that said false is the error."""
    outputs = outputs or {}
    trace = ExecutionTrace(execution_arn=f"{VARIANT}:{run['run_id']}")
    for task in sorted(run.get("tasks", []), key=lambda t: (t.get("start_time") or 0, t["run_id"])):
        state = task.get("state", {})
        if not task.get("start_time") and state.get("result_state") != "EXCLUDED":
            continue  # not started yet
        entered = _at(task.get("start_time")) or _at(run.get("start_time")) or datetime.now(UTC)
        life, result = state.get("life_cycle_state"), state.get("result_state")
        visit = StateVisit(name=task["task_key"], type=_kind(task), entered=entered, attempts=task.get("attempt_number", 0) + 1,
                           exited=_at(task.get("end_time")) if life in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR") else None)  # fmt: skip
        if result not in (None, "SUCCESS", "EXCLUDED"):
            visit.error, visit.cause = result, state.get("state_message") or result
        outcome = (task.get("condition_task") or {}).get("outcome")
        if outcome is not None:
            visit.output = visit.result = {"outcome": outcome}
        elif task["task_key"] in STEP_OUTPUTS and task["task_key"] in outputs:
            visit.result = outputs[task["task_key"]]
            visit.output = {STEP_OUTPUTS[task["task_key"]]: visit.result}
        trace.visits.append(visit)
    state = run.get("state", {})
    if state.get("life_cycle_state") not in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
        return trace
    gates = {t["task_key"]: (t.get("condition_task") or {}).get("outcome") for t in run.get("tasks", [])}
    if state.get("result_state") != "SUCCESS":
        trace.status = "TIMED_OUT" if state.get("result_state") == "TIMEDOUT" else "FAILED"
        failed = next((v for v in trace.visits if v.error), None)
        trace.error = state.get("result_state")
        trace.cause = f"task {failed.name}: {failed.cause}" if failed else state.get("state_message")
    elif (rejected := next((g for g in GATES if gates.get(g) != "true"), None)) is not None:
        trace.status, trace.error = "FAILED", GATES[rejected]
        trace.cause = f"condition task {rejected} said {gates.get(rejected) or 'nothing (excluded)'}"
    else:
        trace.status = "SUCCEEDED"
    trace.output = {step: outputs.get(task) for task, step in STEP_OUTPUTS.items()}
    return trace


def notebook_outputs(
    env: Mapping[str, str], run: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[int, dict]]:
    """Per notebook task: its exit JSON (by task key) and its runs/get-output (by task run id)."""
    import json

    w = workspace_client(env)
    by_key: dict[str, Any] = {}
    by_run: dict[int, dict] = {}
    for task in run.get("tasks", []):
        if "notebook_task" not in task or not task.get("start_time"):
            continue
        out = w.api_client.do("GET", "/api/2.2/jobs/runs/get-output", query={"run_id": task["run_id"]})
        by_run[int(task["run_id"])] = out
        text = (out.get("notebook_output") or {}).get("result")
        if text:
            try:
                by_key[task["task_key"]] = json.loads(text)
            except ValueError:
                by_key[task["task_key"]] = text
    return by_key, by_run


# --- the flight ------------------------------------------------------------------------------------------
def _new_run(w: Any, job_id: int, before: set[int], deadline: float) -> int:
    while time.monotonic() < deadline:
        runs = w.api_client.do("GET", "/api/2.2/jobs/runs/list", query={"job_id": job_id, "limit": 25}).get(
            "runs", []
        )
        fresh = [r for r in runs if int(r["run_id"]) not in before and r.get("trigger") == "FILE_ARRIVAL"]
        if fresh:
            return int(min(fresh, key=lambda r: r["run_id"])["run_id"])
        time.sleep(0.3)
    raise NativeVariantError(
        f"the file-arrival trigger of job {job_id} started no run (is the trigger paused?)"
    )


def run_native_pipeline(
    env: Mapping[str, str],
    deployment: Deployment,
    input_path: Path,
    *,
    on_update: Callable[[ExecutionTrace], None] = lambda _t: None,
    notifications: Callable[[], list[dict]] | None = None,
    timeout: float = 1800.0,
) -> RunResult:
    """Arm the job, drop `input_path` in its landing location and follow the run the trigger starts."""
    started = time.monotonic()
    deadline = started + timeout
    job_id = ensure_job(env, deployment)
    w = workspace_client(env)
    before = {int(r["run_id"]) for r in w.api_client.do("GET", "/api/2.2/jobs/runs/list",
                                                       query={"job_id": job_id, "limit": 25}).get("runs", [])}  # fmt: skip
    digest = hashlib.sha256(input_path.read_bytes()).hexdigest()[:12]
    # A new key per flight: the same bytes under a known key would be neither new to the trigger nor to ETL.
    input_uri = upload_input(env, deployment, input_path,
                             key=f"{LANDING_PREFIX}{digest}-{int(time.time() * 1000)}-{input_path.name}")  # fmt: skip
    run_id = _new_run(w, job_id, before, deadline)
    seen: tuple | None = None
    while True:
        run = w.api_client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": run_id})
        done = run["state"].get("life_cycle_state") in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
        outputs, by_run = notebook_outputs(env, run) if done else ({}, {})
        trace = trace_from_run(run, outputs)
        shape = (trace.status, tuple((v.name, v.exited) for v in trace.visits))
        if shape != seen:
            seen = shape
            on_update(trace)
        if done:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"job run {run_id} still running after {timeout:.0f} s")
        time.sleep(0.5)
    result = RunResult(variant=VARIANT, input_uri=input_uri, execution_arn=trace.execution_arn, trace=trace,
                       wall_seconds=time.monotonic() - started)  # fmt: skip
    result.databricks_runs = [run]
    result.run_outputs = by_run
    if notifications is not None:
        result.notifications = notifications()
    return result


def graph_definition(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The job's task graph drawn as the report's state graph: a notebook task is a Task, a For each task a
    Map around its nested task, a condition task a Choice whose `true` branch is its dependent and whose
    `false` branch ends at a Fail state named for what the gate rejects."""
    tasks = spec["tasks"]
    after = {d["task_key"]: t["task_key"] for t in tasks for d in t.get("depends_on", [])}
    states: dict[str, Any] = {}
    for task in tasks:
        key, nxt = task["task_key"], after.get(task["task_key"])
        if "condition_task" in task:
            reject = GATES.get(key, f"{key}False")
            states[reject] = {"Type": "Fail", "Error": reject}
            states[key] = {"Type": "Choice", "Default": reject, "Choices": [
                {"Variable": f"$.{key}", "StringEquals": "true", "Next": nxt or "Done"}]}  # fmt: skip
        elif "for_each_task" in task:
            inner = task["for_each_task"]["task"]["task_key"]
            states[key] = {"Type": "Map", "ItemProcessor": {"StartAt": inner, "States": {
                inner: {"Type": "Task", "Resource": "notebook_task", "End": True}}}}  # fmt: skip
        else:
            states[key] = {"Type": "Task", "Resource": "notebook_task"}
        if states[key]["Type"] != "Choice":
            states[key].update({"Next": nxt} if nxt else {"End": True})
        elif nxt is None:
            states["Done"] = {"Type": "Succeed"}
    return {"StartAt": tasks[0]["task_key"], "States": states}


def report_for_native(env: Mapping[str, str], result: RunResult, deployment: Deployment, path: Path, *,
                      faults: list[Mapping[str, Any]] | None = None) -> Path:  # fmt: skip
    """The HTML report, drawn on the job's task graph (no Step Functions history: the path is not
    highlighted; the timeline comes from the task runs)."""
    from harness.report import ReportData, write_report
    from harness.reporting import secrets_of

    dict_or_none = lambda v: v if isinstance(v, dict) else None  # noqa: E731
    data = ReportData(
        title=f"{VARIANT}: {JOB_NAME} run {result.execution_arn.rsplit(':', 1)[-1]}",
        definition=graph_definition(job_spec(deployment)), trace=result.trace, wall_seconds=result.wall_seconds,
        input_uri=result.input_uri, databricks_runs=result.databricks_runs, run_outputs=result.run_outputs,
        faults=list(faults or []), notifications=result.notifications,
        etl=dict_or_none(result.step_output("etl")), training=dict_or_none(result.step_output("train")),
        evaluation=dict_or_none(result.step_output("evaluate")), secrets=secrets_of(env),
    )  # fmt: skip
    return write_report(data, path)
