"""The FastAPI app of seed 002: `GET /run?id=&url=` and `POST /resolve?id=&value=`.

Run it with `uvicorn apps.callback_backend.app:create_app --factory`; it reads DATABRICKS_HOST,
DATABRICKS_TOKEN, JOB_ID and the standard AWS variables (AWS_ENDPOINT_URL locally).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import boto3
from botocore.exceptions import ClientError
from fastapi import FastAPI, HTTPException

from apps.callback_backend.pipeline import begin_run, ensure_pipeline
from apps.callback_backend.settings import Settings
from apps.callback_backend.worker import JobTrigger

# SendTaskSuccess on a token whose task already ended: the promise was resolved before (a repeated
# callback, e.g. after the job was triggered twice). Step Functions answers TaskTimedOut for it; moto
# answers InvalidToken for both an ended and a never-issued token, which is reported as a 400.
_ALREADY_CLOSED = ("TaskTimedOut", "TaskDoesNotExist")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    sfn, sqs, sns = (boto3.client(s) for s in ("stepfunctions", "sqs", "sns"))
    resources = ensure_pipeline(sfn, sqs, sns, prefix=settings.prefix, role_arn=settings.role_arn)
    worker = JobTrigger(sqs, resources.queue_url, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()
        yield
        worker.stop()

    app = FastAPI(title="callback backend (seed 002)", lifespan=lifespan)

    @app.get("/run")
    def run(id: str, url: str) -> str:
        return begin_run(sfn, resources, id, url)

    @app.post("/resolve")
    def resolve(id: str, value: str) -> dict[str, str]:
        try:
            sfn.send_task_success(taskToken=id, output=json.dumps({"value": value}))
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in _ALREADY_CLOSED:
                return {"status": "already resolved"}
            raise HTTPException(400, f"promise cannot be resolved: {code}: {exc.response['Error'].get('Message', '')}") from None
        return {"status": "resolved"}

    return app
