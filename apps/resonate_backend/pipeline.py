"""The reference pipeline as a Resonate durable function: `stepbricks run --variant resonate`.

The seed's pattern applied to every Databricks step of the pipeline the state machines fly: validate the
file (the validate-file Lambda), then for ETL, training and evaluation create a promise, start the job with
the promise's id (the start-databricks-job Lambda) and wait on it — the job's last task resolves it through
`POST /resolve` with the notebook's output, or rejects it through `POST /reject` when the step failed —
then the quality gate and a notification (the send-notification Lambda), as the callback state machine
does state for state (asl/definitions/pipeline_callback.asl.json). Step promises are named after those
states (`<id>.ValidateFile`, `<id>.RunEtl`, ...) so the harness can draw the flight from the promise store.

Configuration is the environment: RESONATE_* (the promise server), the AWS variables (Lambda), and
PIPELINE_PLAN, a JSON object the harness writes: {"functions": {"validate-file", "start-databricks-job",
"send-notification"}: ARNs, "steps": {"etl"|"train"|"evaluate": {"job_id", "parameters"}}, "url": this
app's own URL}. Run with `uvicorn apps.resonate_backend.pipeline:app` in `.venv-resonate`.
"""

import json
import logging
import os
from collections.abc import Generator
from typing import Any

import boto3
from fastapi import FastAPI
from resonate import Context, Resonate, Yieldable
from resonate.retry_policies import Never

log = logging.getLogger("resonate_pipeline")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

PLAN: dict[str, Any] = json.loads(os.environ.get("PIPELINE_PLAN", "{}"))
STEPS = (("etl", "RunEtl"), ("train", "RunTrain"), ("evaluate", "RunEvaluate"))

app = FastAPI()
resonate = Resonate().remote()
resonate.start()


@app.get("/run")
async def get(id: str, bucket: str, key: str):
    h = reference_pipeline.begin_run(id, bucket, key, PLAN["url"])
    if h.done():
        return "I am done"
    return "working on it"


@app.post("/resolve")
async def resolve(id: str, value: str):
    resonate.promises.resolve(id, ikey=id, data=json.dumps(value))


@app.post("/reject")
async def reject(id: str, value: str):
    resonate.promises.reject(id, ikey=id, data=json.dumps(value))


def invoke_lambda(ctx: Context, function: str, payload: dict) -> Any:
    """Invoke a deployed Lambda synchronously; its error (FunctionError) is raised, as a Task would fail."""
    answer = boto3.client("lambda").invoke(FunctionName=PLAN["functions"][function], Payload=json.dumps(payload))
    body = json.loads(answer["Payload"].read() or "null")
    if answer.get("FunctionError"):
        raise RuntimeError(f"{body.get('errorType', 'Lambda.Unknown')}: {body.get('errorMessage', '')}")
    return body


def _step_parameters(step: str, state: dict[str, Any]) -> dict[str, Any]:
    """The job parameters the callback state machine passes (its constants come from the plan)."""
    params = dict(PLAN["steps"][step]["parameters"])
    if step == "etl":
        params["source_uri"] = f"s3://{state['bucket']}/{state['key']}"
    else:
        params["processed_uri"] = state["etl"]["output"]["output_uri"]
    if step == "evaluate":
        params["model_version"] = state["train"]["output"]["model_version"]
    return params


@resonate.register
def reference_pipeline(ctx: Context, bucket: str, key: str, url: str) -> Generator[Yieldable, Any, dict]:
    never = Never()
    state: dict[str, Any] = {"bucket": bucket, "key": key}
    state["validation"] = yield ctx.run(invoke_lambda, "validate-file", {"bucket": bucket, "key": key}).options(
        id=f"{ctx.id}.ValidateFile", retry_policy=never)
    if not state["validation"].get("isValid"):
        details = {"execution": ctx.id, "bucket": bucket, "key": key, "validation": state["validation"]}
        yield ctx.run(invoke_lambda, "send-notification", {"status": "File Validation Failed", "details": details}
                      ).options(id=f"{ctx.id}.NotifyInvalidFile", retry_policy=never)
        return {**state, "status": "FAILED", "error": "InputRejected"}
    try:
        for step, name in STEPS:
            # No timeout: resonate-sdk 0.6.7's ctx.promise() refuses every number (its type check is inverted),
            # so a step promise has the SDK's default of a year where the state machine has TimeoutSeconds 7200.
            p = yield ctx.promise(id=f"{ctx.id}.{name}")
            params = {**_step_parameters(step, state), "promise_id": p.id, "callback_url": url}
            started = yield ctx.run(invoke_lambda, "start-databricks-job", {
                "job_id": PLAN["steps"][step]["job_id"], "step": step, "execution_id": ctx.id, "job_parameters": params,
            }).options(id=f"{ctx.id}.{name}.start", retry_policy=never)
            v = yield p
            state[step] = {"output": json.loads(v), "run": started}
    except Exception as exc:  # a step's job failed (its promise was rejected) or a Lambda failed
        error = {"Error": type(exc).__name__, "Cause": str(exc)}
        yield ctx.run(invoke_lambda, "send-notification", {"status": "Pipeline Failed", "details": {
            "execution": ctx.id, "state": {**state, "error": error}}}).options(id=f"{ctx.id}.NotifyFailure",
                                                                            retry_policy=never)
        return {**state, "status": "FAILED", "error": error["Error"], "cause": error["Cause"]}
    gate = state["evaluate"]["output"].get("gate") or {}
    if gate.get("passed") is not True:
        yield ctx.run(invoke_lambda, "send-notification", {"status": "Pipeline Failed", "details": {
            "execution": ctx.id, "state": state}}).options(id=f"{ctx.id}.NotifyFailure", retry_policy=never)
        return {**state, "status": "FAILED", "error": "QualityGateFailed"}
    details = {"execution": ctx.id, "input": {"bucket": bucket, "key": key},
               "rowCount": state["validation"].get("rowCount"), "etl": state["etl"]["output"],
               "train": state["train"]["output"], "evaluate": state["evaluate"]["output"]}
    yield ctx.run(invoke_lambda, "send-notification", {"status": "Pipeline Succeeded", "details": details}
                  ).options(id=f"{ctx.id}.NotifySuccess", retry_policy=never)
    log.info("pipeline %s succeeded", ctx.id)
    return {**state, "status": "SUCCEEDED"}
