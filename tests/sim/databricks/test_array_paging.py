"""Jobs API 2.2 pages the arrays of jobs/get and runs/get by 100; 2.0/2.1 return them whole.

databricks-sdk 0.156's `JobsExt.get` / `get_run` (mixins/jobs.py) follow `next_page_token` and extend
every array; its `list(expand_tasks=True)` / `list_runs(expand_tasks=True)` call get for an item with
`has_more`. Task runs are made by retries of a task an injected fault fails, so no cluster is needed.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from databricks.sdk.service import jobs

from sim import clock
from sim.databricks import Workspace

pytestmark = pytest.mark.slow

TASKS = 150
RETRIES = 120  # 121 task runs


def _get(ws: Workspace, path: str, **params: Any) -> dict[str, Any]:
    response = requests.get(ws.host + path, params=params, headers={"Authorization": f"Bearer {ws.token}"},
                            timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def big_job(client) -> tuple[int, list[str], str]:
    name = f"wide-{uuid.uuid4().hex[:8]}"
    keys = [f"t{i:03d}" for i in range(TASKS)]
    job_id = client.jobs.create(name=name, tasks=[
        jobs.Task(task_key=k, notebook_task=jobs.NotebookTask(notebook_path="/Shared/never-run")) for k in keys
    ]).job_id
    return job_id, keys, name


@pytest.fixture
def retried_run(client, workspace: Workspace) -> int:
    job_id = client.jobs.create(name=f"retried-{uuid.uuid4().hex[:8]}", tasks=[jobs.Task(
        task_key="flaky", max_retries=RETRIES,
        notebook_task=jobs.NotebookTask(notebook_path="/Shared/never-run"))]).job_id
    workspace.faults.task("FAILED", job_id=job_id, message="always failing")
    run_id = client.jobs.run_now(job_id=job_id).run_id
    deadline = clock.now() + 120
    while _get(workspace, "/api/2.1/jobs/runs/get", run_id=run_id)["state"]["life_cycle_state"] != "INTERNAL_ERROR":
        assert clock.now() < deadline, "the retried run did not finish"
        clock.sleep(0.1)
    return run_id


def test_jobs_get_on_2_2_pages_tasks_by_100_and_2_1_returns_them_all(workspace, big_job) -> None:
    job_id, keys, _ = big_job
    first = _get(workspace, "/api/2.2/jobs/get", job_id=job_id)
    assert [t["task_key"] for t in first["settings"]["tasks"]] == keys[:100]
    second = _get(workspace, "/api/2.2/jobs/get", job_id=job_id, page_token=first["next_page_token"])
    assert [t["task_key"] for t in second["settings"]["tasks"]] == keys[100:]
    assert "next_page_token" not in second
    whole = _get(workspace, "/api/2.1/jobs/get", job_id=job_id)
    assert len(whole["settings"]["tasks"]) == TASKS and "next_page_token" not in whole


def test_sdk_get_follows_next_page_token_to_every_task(client, big_job) -> None:
    job_id, keys, _ = big_job
    assert [t.task_key for t in client.jobs.get(job_id).settings.tasks] == keys


def test_jobs_list_with_expanded_tasks_says_has_more_and_the_sdk_fetches_the_rest(client, workspace, big_job) -> None:
    job_id, keys, name = big_job
    listed = _get(workspace, "/api/2.2/jobs/list", name=name, expand_tasks="true")["jobs"]
    assert listed[0]["job_id"] == job_id
    assert listed[0]["has_more"] is True and len(listed[0]["settings"]["tasks"]) == 100
    assert "has_more" not in _get(workspace, "/api/2.1/jobs/list", name=name, expand_tasks="true")["jobs"][0]
    (job,) = list(client.jobs.list(name=name, expand_tasks=True))
    assert [t.task_key for t in job.settings.tasks] == keys


def test_runs_get_on_2_2_pages_task_runs_and_the_sdk_collects_them(client, workspace, retried_run) -> None:
    first = _get(workspace, "/api/2.2/jobs/runs/get", run_id=retried_run)
    assert len(first["tasks"]) == 100 and first["next_page_token"]
    second = _get(workspace, "/api/2.2/jobs/runs/get", run_id=retried_run, page_token=first["next_page_token"])
    assert len(second["tasks"]) == RETRIES + 1 - 100 and "next_page_token" not in second
    assert len(_get(workspace, "/api/2.1/jobs/runs/get", run_id=retried_run)["tasks"]) == RETRIES + 1

    run = client.jobs.get_run(retried_run)
    assert [t.attempt_number for t in run.tasks] == list(range(RETRIES + 1))
    assert run.next_page_token is None
    (raw,) = _get(workspace, "/api/2.2/jobs/runs/list", job_id=run.job_id, expand_tasks="true")["runs"]
    assert raw["has_more"] is True and len(raw["tasks"]) == 100
    (listed,) = client.jobs.list_runs(job_id=run.job_id, expand_tasks=True)
    assert len(listed.tasks) == RETRIES + 1


def test_a_bad_page_token_is_invalid_parameter_value(workspace, big_job) -> None:
    response = requests.get(workspace.host + "/api/2.2/jobs/get", params={"job_id": big_job[0], "page_token": "%%"},
                            headers={"Authorization": f"Bearer {workspace.token}"}, timeout=30)
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
