"""Jobs API through databricks-sdk and the legacy databricks-cli: CRUD and pagination as they loop."""

from __future__ import annotations

import pytest
from databricks.sdk.service import jobs

from sim.databricks import Workspace


def _task(key: str = "main") -> jobs.Task:
    return jobs.Task(task_key=key, notebook_task=jobs.NotebookTask(notebook_path="/Shared/none"))


def test_created_job_reads_back_with_its_settings(client) -> None:
    job_id = client.jobs.create(name="crud", tasks=[_task()], parameters=[
        jobs.JobParameterDefinition(name="day", default="2024-01-01")]).job_id
    job = client.jobs.get(job_id)
    assert job.settings.name == "crud" and job.settings.tasks[0].task_key == "main"
    assert job.settings.parameters[0].default == "2024-01-01" and job.creator_user_name


def test_reset_replaces_and_update_merges_settings(client) -> None:
    job_id = client.jobs.create(name="before", tasks=[_task("a")]).job_id
    client.jobs.reset(job_id, new_settings=jobs.JobSettings(name="after", tasks=[_task("b")]))
    assert [t.task_key for t in client.jobs.get(job_id).settings.tasks] == ["b"]
    client.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[_task("c")], max_concurrent_runs=3))
    settings = client.jobs.get(job_id).settings
    assert sorted(t.task_key for t in settings.tasks) == ["b", "c"] and settings.max_concurrent_runs == 3
    client.jobs.update(job_id, fields_to_remove=["tasks/b"])
    assert [t.task_key for t in client.jobs.get(job_id).settings.tasks] == ["c"]


def test_deleted_job_is_gone(client) -> None:
    from databricks.sdk.errors import ResourceDoesNotExist

    job_id = client.jobs.create(name="doomed", tasks=[_task()]).job_id
    client.jobs.delete(job_id)
    with pytest.raises(ResourceDoesNotExist):
        client.jobs.get(job_id)


def test_create_rejects_a_dependency_on_a_missing_task(client) -> None:
    from databricks.sdk.errors import InvalidParameterValue

    bad = jobs.Task(task_key="b", depends_on=[jobs.TaskDependency(task_key="ghost")],
                    notebook_task=jobs.NotebookTask(notebook_path="/x"))
    with pytest.raises(InvalidParameterValue, match="depends on nonexistent task 'ghost'"):
        client.jobs.create(name="bad", tasks=[_task(), bad])


def test_sdk_list_pages_through_more_than_a_hundred_jobs(client) -> None:
    created = {client.jobs.create(name="paged", tasks=[_task()]).job_id for _ in range(130)}
    listed = [j.job_id for j in client.jobs.list(name="paged", limit=25)]
    assert len(listed) == len(set(listed)) == 130 and set(listed) == created
    assert listed == sorted(listed, reverse=True)  # newest first


def test_list_answers_tokens_only_when_more_remain(workspace: Workspace) -> None:
    import requests

    auth = {"Authorization": f"Bearer {workspace.token}"}
    for _ in range(3):
        requests.post(workspace.host + "/api/2.2/jobs/create", json={"name": "tokens"}, headers=auth, timeout=10)
    first = requests.get(workspace.host + "/api/2.2/jobs/list", params={"name": "tokens", "limit": 2},
                         headers=auth, timeout=10).json()
    assert first["has_more"] is True and first["next_page_token"]
    last = requests.get(workspace.host + "/api/2.2/jobs/list",
                        params={"name": "tokens", "limit": 2, "page_token": first["next_page_token"]},
                        headers=auth, timeout=10).json()
    assert last["has_more"] is False and "next_page_token" not in last and len(last["jobs"]) == 1
    empty = requests.get(workspace.host + "/api/2.2/jobs/list", params={"name": "no-such-job"},
                         headers=auth, timeout=10).json()
    assert empty == {"has_more": False}


def test_legacy_cli_lists_with_offset_and_has_more(workspace: Workspace) -> None:
    from databricks_cli.jobs.api import JobsApi
    from databricks_cli.sdk.api_client import ApiClient

    api_client = ApiClient(host=workspace.host, token=workspace.token)
    api_client.url = workspace.host + "/api/"  # ApiClient drops the port (checklist, "Clients")
    offset, seen = 0, []
    while True:
        page = api_client.perform_query("GET", "/jobs/list", data={"limit": 50, "offset": offset})
        seen += [j["job_id"] for j in page.get("jobs", [])]
        if not page["has_more"]:
            break
        offset += 50
    assert sorted(seen) == sorted(workspace.backend.jobs._jobs)
    assert JobsApi(api_client).list_jobs(version="2.0")["has_more"] is (len(seen) > 20)
