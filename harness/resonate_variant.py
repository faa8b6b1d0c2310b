"""`stepbricks run --variant resonate`: the reference pipeline flown through a Resonate durable function.

The function (apps/resonate_backend/pipeline.py) runs in the Resonate backend's own Python 3.12
environment (.venv-resonate, made by scripts/resonate_venv.sh) against the simulator's promise server.
Its plan — Lambda ARNs, job ids and the constant job parameters — is read from the deployed callback state
machine, the variant it mirrors state for state, so both fly the same configuration. Each pipeline job
gets a `-resonate` copy with one more task (run_if ALL_DONE): apps/resonate_backend/notebooks/resolve_step.py,
which settles the step's promise through the backend with the step's output or error.

The flight is read back from the promise store (`<id>.ValidateFile`, `<id>.RunEtl`, ...) into the same
`ExecutionTrace` the Step Functions variants produce, for the same live table, summary and report.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from harness.app_process import AppProcess, AppProcessError
from harness.clients import aws_client, workspace_client
from harness.deploy import PROJECT_ROOT, Deployment
from harness.follow import TERMINAL, ExecutionTrace, StateVisit
from harness.runner import RunResult, databricks_runs_of, task_outputs, upload_input

RESOLVE_NOTEBOOK = PROJECT_ROOT / "apps" / "resonate_backend" / "notebooks" / "resolve_step.py"
RESOLVE_PATH = "/Shared/stepbricks/resonate_resolve_step"
RESOLVE_TASK = "resolve_promise"
STEPS = (("etl", "RunEtl"), ("train", "RunTrain"), ("evaluate", "RunEvaluate"))
VISITS = ("ValidateFile", "NotifyInvalidFile", "RunEtl", "RunTrain", "RunEvaluate", "NotifySuccess", "NotifyFailure")
RESONATE_VARIABLES = ("RESONATE_HOST", "RESONATE_PORT_STORE", "RESONATE_PORT_MESSAGE_SOURCE")
VENV_SECONDS = 900


class ResonateVariantError(RuntimeError):
    """The variant cannot fly here (no promise server, no Python 3.12 environment); the message says why."""


def resonate_python() -> Path:
    """.venv-resonate's interpreter, made on demand (a first run downloads resonate-sdk and FastAPI)."""
    made = subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "resonate_venv.sh")], capture_output=True,
                          text=True, timeout=VENV_SECONDS)  # fmt: skip
    python = PROJECT_ROOT / ".venv-resonate" / "bin" / "python"
    if made.returncode != 0 or not python.exists():
        reason = (made.stderr.strip().splitlines() or ["no output"])[-1]
        raise ResonateVariantError(f"the Resonate environment could not be made by scripts/resonate_venv.sh: {reason}")
    return python


# --- deployment -----------------------------------------------------------------------------------------
def ensure_jobs(env: Mapping[str, str], deployment: Deployment) -> dict[str, int]:
    """The `-resonate` copy of each pipeline job: its step task, then the task that settles the promise."""
    from databricks.sdk.service.workspace import ImportFormat, Language

    w = workspace_client(env)
    w.workspace.mkdirs(RESOLVE_PATH.rsplit("/", 1)[0])
    w.workspace.upload(RESOLVE_PATH, RESOLVE_NOTEBOOK.read_bytes(), format=ImportFormat.SOURCE,
                       language=Language.PYTHON, overwrite=True)  # fmt: skip
    existing = {job.settings.name: job.job_id for job in w.jobs.list() if job.settings and job.settings.name}
    jobs: dict[str, int] = {}
    for step, _ in STEPS:
        settings = w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": deployment.jobs[step]})["settings"]
        tasks = [t for t in settings["tasks"] if t["task_key"] != RESOLVE_TASK]
        parameters = [p for p in settings.get("parameters", []) if p["name"] not in ("promise_id", "callback_url")]
        spec = {**settings, "name": f"{settings['name']}-resonate", "parameters": [
            *parameters, {"name": "promise_id", "default": ""}, {"name": "callback_url", "default": ""}],
            "tasks": [*tasks, {
                "task_key": RESOLVE_TASK, "depends_on": [{"task_key": t["task_key"]} for t in tasks], "run_if": "ALL_DONE",
                "existing_cluster_id": deployment.cluster_id, "timeout_seconds": 600,
                "notebook_task": {"notebook_path": RESOLVE_PATH, "base_parameters": {
                    "parent_run_id": "{{job.run_id}}", "upstream": tasks[-1]["task_key"]}},
            }]}  # fmt: skip
        if spec["name"] in existing:
            w.api_client.do("POST", "/api/2.1/jobs/reset", body={"job_id": existing[spec["name"]], "new_settings": spec})
            jobs[step] = int(existing[spec["name"]])
        else:
            jobs[step] = int(w.api_client.do("POST", "/api/2.1/jobs/create", body=spec)["job_id"])
    return jobs


def plan(env: Mapping[str, str], deployment: Deployment, jobs: Mapping[str, int], url: str) -> dict[str, Any]:
    """What the function needs, taken from the deployed callback state machine (constants only)."""
    sfn = aws_client("stepfunctions", env)
    states = json.loads(sfn.describe_state_machine(stateMachineArn=deployment.state_machines["callback"])
                        ["definition"])["States"]  # fmt: skip
    steps = {}
    for step, name in STEPS:
        raw = states[name]["Parameters"]["Payload"]["job_parameters"]
        constants = {k: v for k, v in raw.items() if not k.endswith(".$") and k != "task_token"}
        steps[step] = {"job_id": jobs[step], "parameters": constants}
    return {"functions": {k: deployment.functions[k] for k in ("validate-file", "start-databricks-job",
                                                               "send-notification")},
            "steps": steps, "url": url}  # fmt: skip


# --- the backend process --------------------------------------------------------------------------------
class PipelineBackend(AppProcess):
    """`uvicorn apps.resonate_backend.pipeline:app` in .venv-resonate on a free loopback port."""

    def __init__(self, python: Path, env: Mapping[str, str], log_dir: Path, run_id: str) -> None:
        super().__init__(python, ["apps.resonate_backend.pipeline:app"], env, log_dir, name=run_id)

    def start(self, plan_json: str, timeout: float = 60) -> PipelineBackend:  # type: ignore[override]
        try:
            super().start({"PIPELINE_PLAN": plan_json}, timeout)
        except AppProcessError as exc:
            raise ResonateVariantError(f"the Resonate backend did not start: {exc}") from None
        return self

    def run(self, run_id: str, bucket: str, key: str) -> str:
        return requests.get(f"{self.url}/run", params={"id": run_id, "bucket": bucket, "key": key}, timeout=60).json()


# --- reading the flight back ----------------------------------------------------------------------------
def _decode(value: Mapping[str, Any] | None) -> Any:
    data = (value or {}).get("data")
    if data is None:
        return None
    text = base64.b64decode(data).decode()
    try:
        return json.loads(text)
    except ValueError:
        return text


def _at(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms is not None else None


def _search_promises(store_url: str, id_pattern: str) -> list[dict[str, Any]]:
    """Every promise whose id matches, a page (at most 100, the server's limit) at a time."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"id": id_pattern, "limit": 100}
    while True:
        answer = requests.get(f"{store_url}/promises", params=params, timeout=30)
        answer.raise_for_status()
        page = answer.json()
        found += page["promises"]
        if not page.get("cursor"):
            return found
        params = {"cursor": page["cursor"]}


def trace_from_promises(store_url: str, run_id: str) -> ExecutionTrace:
    """The function's step promises as state visits, in the order it created them."""
    promises = {p["id"]: p for p in _search_promises(store_url, f"{run_id}*")}
    trace = ExecutionTrace(execution_arn=run_id)
    steps = dict((name, step) for step, name in STEPS)
    for name in VISITS:
        promise = promises.get(f"{run_id}.{name}")
        if promise is None:
            continue
        done = promise["state"] != "PENDING"
        visit = StateVisit(name=name, type="Task", entered=_at(promise["createdOn"]), attempts=1,
                           exited=_at(promise["completedOn"]) if done else None)  # fmt: skip
        value = _decode(promise["value"])
        if name in steps:
            started = promises.get(f"{run_id}.{name}.start")
            run = _decode(started["value"]) if started and started["state"] == "RESOLVED" else None
            output = json.loads(value) if promise["state"] == "RESOLVED" and isinstance(value, str) else None
            visit.output = {steps[name]: {"output": output, "run": run}}
            visit.result = output
        else:
            visit.output = visit.result = value
        if promise["state"] != "PENDING" and promise["state"] != "RESOLVED":
            visit.error = "States.Timeout" if promise["state"] == "REJECTED_TIMEDOUT" else "StepFailed"
            visit.cause = value if isinstance(value, str) else json.dumps(value)
        trace.visits.append(visit)
    trace.visits.sort(key=lambda v: v.entered)
    root = promises.get(run_id)
    if root is None or root["state"] == "PENDING":
        return trace
    final = _decode(root["value"])
    if root["state"] == "RESOLVED" and isinstance(final, dict):
        trace.status = final.get("status", "FAILED")
        trace.output = final
        trace.error, trace.cause = final.get("error"), final.get("cause")
    else:
        trace.status = "TIMED_OUT" if root["state"] == "REJECTED_TIMEDOUT" else "FAILED"
        trace.error, trace.cause = root["state"], json.dumps(final)
    return trace


# --- the flight -----------------------------------------------------------------------------------------
def run_resonate_pipeline(
    env: Mapping[str, str],
    deployment: Deployment,
    input_path: Path,
    *,
    log_dir: Path,
    on_update: Callable[[ExecutionTrace], None] = lambda _t: None,
    notifications: Callable[[], list[dict]] | None = None,
    timeout: float = 1800.0,
) -> RunResult:
    """Start the pipeline function for `input_path` through the backend's `/run` and follow its promises."""
    missing = [name for name in RESONATE_VARIABLES if not env.get(name)]
    if missing:
        raise ResonateVariantError(f"no Resonate promise server: set {', '.join(missing)} (stepbricks up starts one)")
    started = time.monotonic()
    python = resonate_python()
    jobs = ensure_jobs(env, deployment)
    digest = hashlib.sha256(input_path.read_bytes()).hexdigest()[:12]
    run_id = f"resonate-{digest}-{int(time.time() * 1000)}"
    # Not under incoming/: the S3 trigger would start a state machine; here the backend's /run starts the flight.
    input_uri = upload_input(env, deployment, input_path, key=f"resonate/{run_id}/{input_path.name}")
    bucket, key = input_uri.removeprefix("s3://").split("/", 1)
    backend = PipelineBackend(python, env, log_dir, run_id)
    store_url = f"{env['RESONATE_HOST']}:{env['RESONATE_PORT_STORE']}"
    try:
        backend.start(json.dumps(plan(env, deployment, jobs, backend.url)))
        backend.run(run_id, bucket, key)
        seen: tuple | None = None
        deadline = time.monotonic() + timeout
        while True:
            trace = trace_from_promises(store_url, run_id)
            shape = (trace.status, tuple((v.name, v.exited) for v in trace.visits))
            if shape != seen:
                seen = shape
                on_update(trace)
            if trace.status in TERMINAL:
                break
            if backend.exited:
                raise ResonateVariantError(f"the Resonate backend died: {backend.logs()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"pipeline {run_id} still running after {timeout:.0f} s")
            time.sleep(0.5)
    finally:
        backend.stop()
    result = RunResult(variant="resonate", input_uri=input_uri, execution_arn=run_id, trace=trace,
                       wall_seconds=time.monotonic() - started)  # fmt: skip
    result.databricks_runs = databricks_runs_of(env, deployment, trace)
    result.run_outputs = task_outputs(env, result.databricks_runs)
    if notifications is not None:
        result.notifications = notifications()
    return result


def report_for_resonate(env: Mapping[str, str], result: RunResult, deployment: Deployment, path: Path, *,
                        faults: list[Mapping[str, Any]] | None = None) -> Path:  # fmt: skip
    """The HTML report, drawn on the callback state machine the function mirrors (no Step Functions history:
    the path through the graph is not highlighted; the timeline comes from the promises)."""
    from harness.report import ReportData, write_report
    from harness.reporting import secrets_of

    sfn = aws_client("stepfunctions", env)
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=deployment.state_machines["callback"])["definition"])
    dict_or_none = lambda v: v if isinstance(v, dict) else None  # noqa: E731
    data = ReportData(
        title=f"resonate: reference_pipeline {result.execution_arn}", definition=definition, trace=result.trace,
        wall_seconds=result.wall_seconds, input_uri=result.input_uri, databricks_runs=result.databricks_runs,
        run_outputs=result.run_outputs, faults=list(faults or []), notifications=result.notifications,
        etl=dict_or_none(result.step_output("etl")), training=dict_or_none(result.step_output("train")),
        evaluation=dict_or_none(result.step_output("evaluate")), secrets=secrets_of(env),
    )  # fmt: skip
    return write_report(data, path)
