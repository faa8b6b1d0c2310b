"""The backend's worker: takes "trigger this job" messages the pipeline left in SQS and runs the job.

A message is deleted only after `run-now` answered, so a backend that dies in between gets it again
after the visibility timeout (at-least-once, like Resonate's `ctx.run`); a second callback for the
same promise is answered as already resolved.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from apps.callback_backend.jobs import run_job
from apps.callback_backend.settings import Settings

log = logging.getLogger("callback_backend.worker")


class JobTrigger(threading.Thread):
    def __init__(self, sqs: Any, queue_url: str, settings: Settings, *, visibility_timeout: int = 30) -> None:
        super().__init__(name="job-trigger", daemon=True)
        self._sqs, self._queue_url, self._settings = sqs, queue_url, settings
        self._visibility = visibility_timeout
        self._stop = threading.Event()
        self.triggered: list[int] = []

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(QueueUrl=self._queue_url, WaitTimeSeconds=1,
                                                     VisibilityTimeout=self._visibility).get("Messages", [])  # fmt: skip
            except Exception:  # the AWS endpoint may be restarting: try again
                log.exception("receive_message failed")
                self._stop.wait(1)
                continue
            for message in messages:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        body = json.loads(message["Body"])
        s = self._settings
        run_id = run_job(s.databricks_host, s.databricks_token, body["promise_id"], s.job_id, body["url"])
        log.info("pipeline %s: job %s run %s triggered", body.get("id"), s.job_id, run_id)
        self.triggered.append(run_id)
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def stop(self) -> None:
        self._stop.set()
        self.join(10)
