"""Seed 002's backend: the pipeline waits on a promise that the Databricks job resolves, and survives a
backend crash while the job runs (the durable state lives in Step Functions, not in the backend)."""

from __future__ import annotations

import pytest
import requests

from tests.apps.conftest import World
from tests.apps.seed_world import Backend

pytestmark = [pytest.mark.slow]


def test_the_promise_is_resolved_by_the_job_and_the_pipeline_resumes(world: World, backend_for) -> None:
    backend: Backend = backend_for("quick")
    assert backend.run("order-1") == "working on it"
    assert backend.wait_done("order-1") == "I am done"
    run = world.only_run("quick")
    assert world.notebook_result(run) == "processed 3 rows"
    notified = [m["message"] for m in world.aws.sns_messages()]
    assert "data pipeline order-1 is ready: processed 3 rows" in notified
    assert backend.run("order-1") == "I am done"  # asking again starts nothing new
    assert len(world.runs(world.jobs["quick"])) == 1


def test_a_backend_restart_while_the_job_runs_still_completes_the_pipeline(world: World, backend_for) -> None:
    backend: Backend = backend_for("slow")
    world.crash_while_the_job_runs(backend, "order-2")
    backend.start()  # a new process, same address: nothing but Step Functions remembers the pipeline
    assert backend.wait_done("order-2") == "I am done"
    world.only_run("slow")
    assert "data pipeline order-2 is ready: processed 3 rows" in [m["message"] for m in world.aws.sns_messages()]


def test_resolving_an_unknown_promise_is_refused(world: World, backend_for) -> None:
    backend: Backend = backend_for("quick")
    answer = requests.post(f"{backend.url}/resolve", params={"id": "not-a-token", "value": "x"}, timeout=30)
    assert answer.status_code == 400
    assert "InvalidToken" in answer.json()["detail"]
