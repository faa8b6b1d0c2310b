"""Seed 002's backend, verbatim where it can be: `GET /run?id=&url=` starts `data_pipeline`, which creates a
durable promise, triggers the Databricks job with the promise's id and waits on it; `POST /resolve?id=&value=`
(the notebook's last step) resolves it and Resonate resumes the function wherever it runs.

Configuration is the environment only: RESONATE_HOST, RESONATE_PORT_STORE and RESONATE_PORT_MESSAGE_SOURCE
(read by `Resonate.remote()` itself), DATABRICKS_HOST, DATABRICKS_TOKEN and JOB_ID (read by the seed).
Run it with `uvicorn apps.resonate_backend.app:app` in `.venv-resonate` (scripts/resonate_venv.sh).

Changes to the seed, each needed to run it and no more:
- the imports the seed leaves out;
- `run_job` keeps the workspace's port in the URL (databricks-cli 0.18's `ApiClient` drops it, see
  apps/callback_backend/jobs.py) and its result is logged, so a test can count the triggers;
- the function's final `print` goes to the log as well (the seed's "send email" step).
"""

import json
import logging
import os
from collections.abc import Generator
from typing import Any

from databricks_cli.jobs.api import JobsApi
from databricks_cli.sdk.api_client import ApiClient
from fastapi import FastAPI
from resonate import Context, Resonate, Yieldable

log = logging.getLogger("resonate_backend")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

app = FastAPI()
resonate = Resonate().remote()
resonate.start()


# handlers
@app.get("/run")
async def get(id: str, url: str):
    h = data_pipeline.begin_run(id, url)
    if h.done():
        return "I am done"
    return "working on it"


@app.post("/resolve")
async def resolve(id: str, value: str):
    resonate.promises.resolve(id, ikey=id, data=json.dumps(value))


@resonate.register
def data_pipeline(ctx: Context, url: str) -> Generator[Yieldable, Any, None]:
    p = yield ctx.promise()
    yield ctx.run(run_job, promise_id=p.id, job=os.environ["JOB_ID"], url=url)
    v = yield p
    # yield ctx.run(send_email)
    print(f"databricks execution has finished with value {v}")
    log.info("databricks execution has finished with value %s", v)
    return


def run_job(ctx: Context, promise_id: str, job: int, url: str) -> None:
    client = ApiClient(
        host=os.environ["DATABRICKS_HOST"],
        token=os.environ["DATABRICKS_TOKEN"],
    )
    client.url = f"{os.environ['DATABRICKS_HOST'].rstrip('/')}/api/"  # keep the port (module docstring)
    jobs = JobsApi(client)
    response = jobs.run_now(
        job_id=job,
        notebook_params={"promise_id": promise_id, "url": url},
        jar_params=None,
        python_params=None,
        spark_submit_params=None,
    )
    log.info("job %s run %s triggered for promise %s", job, response.get("run_id"), promise_id)
