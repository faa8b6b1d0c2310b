"""runs/repair: a finished run's tasks run again as part of the same run, as databricks-sdk, Airflow's
provider and the legacy CLI drive it. Injected task faults end a task without a cluster, so most runs
here cost no Spark; the ETL-like case runs real notebooks.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from databricks.sdk.service import jobs

from sim import clock
from sim.databricks import Workspace

pytestmark = pytest.mark.slow

OK_NOTEBOOK = 'print("ok")\n'
# Fails until the secret it names exists: the "fixed upstream, now repair" story of an ETL step.
NEEDS_SECRET_NOTEBOOK = """
scope = dbutils.widgets.get("scope")
value = dbutils.secrets.get(scope, "source_password")
rows = spark.range(3).count()
# COMMAND ----------
dbutils.notebook.exit(f"loaded {rows} rows")
"""


def _api(ws: Workspace, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, ws.host + path, headers={"Authorization": f"Bearer {ws.token}"}, timeout=30,
                            **kwargs)


def _ok(ws: Workspace, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = _api(ws, method, path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def _run(ws: Workspace, run_id: int, version: str = "2.1", **params: Any) -> dict[str, Any]:
    return _ok(ws, "GET", f"/api/{version}/jobs/runs/get", params={"run_id": run_id, **params})


def _wait(ws: Workspace, run_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = clock.now() + timeout
    while clock.now() < deadline:
        run = _run(ws, run_id)
        if run["state"]["life_cycle_state"] in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return run
        clock.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def _job(ws: Workspace, path: str, graph: dict[str, list[str]]) -> int:
    """A job whose tasks all run `path`; `graph` maps each task key to the keys it depends on."""
    tasks = [{"task_key": key, "notebook_task": {"notebook_path": path},
              "depends_on": [{"task_key": d} for d in deps]} for key, deps in graph.items()]
    return _ok(ws, "POST", "/api/2.1/jobs/create", json={"name": f"repair-{uuid.uuid4().hex[:8]}",
                                                         "tasks": tasks})["job_id"]


def _results(run: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {t["task_key"]: (t["run_id"], t["state"]["result_state"]) for t in run["tasks"]}


def _error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error_code"], body["message"]


@pytest.fixture
def failed_run(workspace: Workspace) -> dict[str, Any]:
    """A finished one-task run failed by a fault that keeps firing (no cluster involved)."""
    job_id = _job(workspace, "/Shared/never-reached", {"only": []})
    workspace.faults.task("FAILED", job_id=job_id, message="still broken")
    run_id = _ok(workspace, "POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"]
    return _wait(workspace, run_id)


def test_failed_etl_step_fixed_by_a_secret_is_repaired_with_the_sdk_waiter(client, workspace, upload_notebook) -> None:
    scope = f"repair-{uuid.uuid4().hex[:8]}"
    client.secrets.create_scope(scope)
    ok = upload_notebook("/Shared/tests/repair/ok", OK_NOTEBOOK)
    load = upload_notebook("/Shared/tests/repair/needs_secret", NEEDS_SECRET_NOTEBOOK)
    job_id = client.jobs.create(name="etl-repair", tasks=[
        jobs.Task(task_key="extract", notebook_task=jobs.NotebookTask(notebook_path=ok)),
        jobs.Task(task_key="transform", depends_on=[jobs.TaskDependency(task_key="extract")],
                  notebook_task=jobs.NotebookTask(notebook_path=load, base_parameters={"scope": scope})),
        jobs.Task(task_key="publish", depends_on=[jobs.TaskDependency(task_key="transform")],
                  notebook_task=jobs.NotebookTask(notebook_path=ok)),
    ]).job_id
    run_id = client.jobs.run_now(job_id=job_id).run_id
    first = _wait(workspace, run_id)
    assert first["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    before = _results(first)
    assert {k: r for k, (_, r) in before.items()} == {
        "extract": "SUCCESS", "transform": "FAILED", "publish": "UPSTREAM_FAILED"}

    client.secrets.put_secret(scope, "source_password", string_value="fixed")
    waiter = client.jobs.repair_run(run_id, rerun_tasks=["transform"], rerun_dependent_tasks=True)
    assert waiter.response.repair_id is not None
    run = waiter.result(timeout=timedelta(minutes=5))

    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    after = {t.task_key: (t.run_id, t.state.result_state.value) for t in run.tasks}
    assert after["extract"] == before["extract"]  # kept, not re-run
    assert after["transform"][1] == after["publish"][1] == "SUCCESS"
    assert after["transform"][0] != before["transform"][0] and after["publish"][0] != before["publish"][0]
    repaired = next(t for t in run.tasks if t.task_key == "transform")
    assert client.jobs.get_run_output(repaired.run_id).notebook_output.result == "loaded 3 rows"
    # The superseded attempt is still there, with its error.
    assert "source_password" in client.jobs.get_run_output(before["transform"][0]).error

    history = client.jobs.get_run(run_id, include_history=True).repair_history
    assert [h.type for h in history] == [jobs.RepairHistoryItemType.ORIGINAL, jobs.RepairHistoryItemType.REPAIR]
    assert history[0].id is None and history[1].id == waiter.response.repair_id
    assert history[0].state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR
    assert history[0].status.state == jobs.RunLifecycleStateV2State.TERMINATED
    assert sorted(history[0].task_run_ids) == sorted(r for r, _ in before.values())
    assert sorted(history[1].task_run_ids) == sorted([after["transform"][0], after["publish"][0]])
    assert history[1].state.result_state == jobs.RunResultState.SUCCESS
    assert history[0].start_time <= history[0].end_time <= history[1].start_time <= history[1].end_time
    assert client.jobs.get_run(run_id).repair_history == []  # only with include_history


def test_rerun_all_failed_tasks_reruns_failed_and_upstream_failed_tasks_and_keeps_successes(
        workspace, upload_notebook) -> None:
    ok = upload_notebook("/Shared/tests/repair/ok", OK_NOTEBOOK)
    job_id = _job(workspace, ok, {"a": [], "b": [], "c": ["b"], "d": ["a"]})
    workspace.faults.task("FAILED", job_id=job_id, task_key="b", times=1, message="flaky source")
    run_id = _ok(workspace, "POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"]
    before = _results(_wait(workspace, run_id))
    assert {k: r for k, (_, r) in before.items()} == {
        "a": "SUCCESS", "b": "FAILED", "c": "UPSTREAM_FAILED", "d": "SUCCESS"}

    repair_id = _ok(workspace, "POST", "/api/2.2/jobs/runs/repair",
                    json={"run_id": run_id, "rerun_all_failed_tasks": True})["repair_id"]
    run = _wait(workspace, run_id)
    after = _results(run)
    assert run["state"]["result_state"] == "SUCCESS" and run["end_time"] >= run["start_time"]
    assert after["a"] == before["a"] and after["d"] == before["d"]
    assert after["b"][1] == after["c"][1] == "SUCCESS"
    assert {after["b"][0], after["c"][0]}.isdisjoint({before["b"][0], before["c"][0]})
    assert _run(workspace, run_id, include_history="true")["repair_history"][-1]["id"] == repair_id


def test_rerun_dependent_tasks_reruns_successful_downstream_and_repairs_are_sequential(
        workspace, upload_notebook) -> None:
    ok = upload_notebook("/Shared/tests/repair/ok", OK_NOTEBOOK)
    job_id = _job(workspace, ok, {"a": [], "b": ["a"], "c": ["b"]})
    run_id = _ok(workspace, "POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"]
    original = _results(_wait(workspace, run_id))
    assert all(r == "SUCCESS" for _, r in original.values())

    first = _ok(workspace, "POST", "/api/2.1/jobs/runs/repair", json={"run_id": run_id, "rerun_tasks": ["b"]})
    only_b = _results(_wait(workspace, run_id))
    assert only_b["a"] == original["a"] and only_b["c"] == original["c"] and only_b["b"] != original["b"]

    missing = _api(workspace, "POST", "/api/2.1/jobs/runs/repair", json={"run_id": run_id, "rerun_tasks": ["b"]})
    assert _error(missing) == (400, "INVALID_PARAMETER_VALUE",
                               "The latest repair ID needs to be provided in order to create a new repair")

    second = _ok(workspace, "POST", "/api/2.1/jobs/runs/repair", json={
        "run_id": run_id, "rerun_tasks": ["b"], "rerun_dependent_tasks": True,
        "latest_repair_id": first["repair_id"]})
    with_c = _results(_wait(workspace, run_id))
    assert with_c["a"] == original["a"]
    assert with_c["b"][0] not in (original["b"][0], only_b["b"][0]) and with_c["c"][0] != original["c"][0]

    stale = _api(workspace, "POST", "/api/2.1/jobs/runs/repair", json={
        "run_id": run_id, "rerun_tasks": ["a"], "latest_repair_id": first["repair_id"]})
    status, code, message = _error(stale)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE") and str(first["repair_id"]) in message
    history = _run(workspace, run_id, include_history="true")["repair_history"]
    assert [(h["type"], h.get("id")) for h in history] == [
        ("ORIGINAL", None), ("REPAIR", first["repair_id"]), ("REPAIR", second["repair_id"])]
    assert [len(h["task_run_ids"]) for h in history] == [3, 1, 2]


def test_repair_refuses_a_run_in_progress_with_invalid_state(workspace) -> None:
    job_id = _job(workspace, "/Shared/never-reached", {"only": []})
    workspace.faults.task("SLOW_START", job_id=job_id, delay_seconds=600)
    run_id = _ok(workspace, "POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"]
    try:
        response = _api(workspace, "POST", "/api/2.1/jobs/runs/repair",
                        json={"run_id": run_id, "rerun_all_failed_tasks": True})
        status, code, message = _error(response)
        assert (status, code) == (400, "INVALID_STATE") and str(run_id) in message
    finally:
        _ok(workspace, "POST", "/api/2.1/jobs/runs/cancel", json={"run_id": run_id})
        _wait(workspace, run_id)


@pytest.mark.parametrize(("body", "needle"), [
    ({"rerun_tasks": ["only", "nope", "ghost"]}, "ghost, nope"),
    ({"rerun_tasks": ["only", "only"]}, "rerun_tasks cannot contain duplicate task keys."),
    ({"rerun_tasks": ["only"], "rerun_all_failed_tasks": True}, "Only one of rerun_tasks or rerun_all_failed_tasks"),
    ({}, "rerun_tasks or rerun_all_failed_tasks"),
    ({"rerun_tasks": ["only"], "latest_repair_id": 12345}, "12345"),
    ({"rerun_tasks": ["only"], "job_parameters": {"x": "1"}, "notebook_params": {"y": "2"}}, "legacy"),
    ({"rerun_tasks": "only"}, "rerun_tasks"),
    ({"rerun_all_failed_tasks": "maybe"}, "rerun_all_failed_tasks"),
])
def test_bad_repair_requests_answer_invalid_parameter_value_naming_the_problem(
        workspace, failed_run, body, needle) -> None:
    response = _api(workspace, "POST", "/api/2.2/jobs/runs/repair", json={"run_id": failed_run["run_id"], **body})
    status, code, message = _error(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE") and needle in message, message
    history = _run(workspace, failed_run["run_id"], include_history="true")["repair_history"]
    assert [h["type"] for h in history] == ["ORIGINAL"]  # nothing was repaired


def test_repair_of_an_unknown_run_or_of_a_task_run_is_refused(workspace, failed_run) -> None:
    unknown = _api(workspace, "POST", "/api/2.1/jobs/runs/repair",
                   json={"run_id": 987654321, "rerun_all_failed_tasks": True})
    assert _error(unknown) == (400, "INVALID_PARAMETER_VALUE", "Run 987654321 does not exist.")
    task_run_id = failed_run["tasks"][0]["run_id"]
    of_task = _api(workspace, "POST", "/api/2.1/jobs/runs/repair",
                   json={"run_id": task_run_id, "rerun_all_failed_tasks": True})
    status, code, message = _error(of_task)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE") and str(failed_run["run_id"]) in message


def test_sdk_maps_the_repair_errors_to_its_exceptions(client, failed_run) -> None:
    """The SDK turns "Run N does not exist." into ResourceDoesNotExist only on runs/get (errors/overrides.py)."""
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue, match=r"Run 987654321 does not exist\."):
        client.jobs.repair_run(987654321, rerun_all_failed_tasks=True)
    with pytest.raises(InvalidParameterValue, match="ghost"):
        client.jobs.repair_run(failed_run["run_id"], rerun_tasks=["ghost"])


def test_airflow_run_now_operator_repair_shape_repairs_twice(workspace) -> None:
    """DatabricksRunNowOperator(repair_run=True), provider 7.x: get_latest_repair_id reads
    `runs/get?include_history=true` (`repair_history[-1]["id"]`, None while it has one item), then
    POST 2.2/jobs/runs/repair {run_id, rerun_all_failed_tasks: true[, latest_repair_id][, job_parameters]}."""
    job_id = _job(workspace, "/Shared/never-reached", {"only": []})
    workspace.faults.task("FAILED", job_id=job_id, message="still broken")
    run_id = _ok(workspace, "POST", "/api/2.2/jobs/run-now", json={"job_id": job_id})["run_id"]
    _wait(workspace, run_id)
    repair_ids = []
    for _ in range(2):
        history = _run(workspace, run_id, "2.2", include_history="true")["repair_history"]
        latest = None if len(history) == 1 else history[-1]["id"]
        body: dict[str, Any] = {"run_id": run_id, "rerun_all_failed_tasks": True,
                                "job_parameters": {"batch": "b-1"}}
        if latest is not None:
            body["latest_repair_id"] = latest
        repair_ids.append(_ok(workspace, "POST", "/api/2.2/jobs/runs/repair", json=body)["repair_id"])
        run = _wait(workspace, run_id)
        assert run["state"]["result_state"] == "FAILED"
    assert repair_ids[1] > repair_ids[0]
    assert run["job_parameters"] == [{"name": "batch", "value": "b-1"}]
    history = _run(workspace, run_id, "2.2", include_history="True")["repair_history"]
    assert [h.get("id") for h in history] == [None, *repair_ids]
    assert len({t["run_id"] for t in run["tasks"]}) == 1  # only the latest execution's attempt is shown


def test_airflow_workflow_plugin_repair_shape_with_null_latest_repair_id(workspace, failed_run) -> None:
    """The provider's workflow plugin sends `latest_repair_id: null` before the first repair and copies the
    run's `overriding_parameters` into the body (a field the endpoint does not know)."""
    run_id = failed_run["run_id"]
    response = _ok(workspace, "POST", "/api/2.2/jobs/runs/repair", json={
        "run_id": run_id, "latest_repair_id": None, "rerun_tasks": ["only"],
        "overriding_parameters": {"notebook_params": {"a": "1"}}})
    assert isinstance(response["repair_id"], int)
    assert _wait(workspace, run_id)["state"]["result_state"] == "FAILED"


def test_legacy_cli_repair_on_api_2_0(workspace, failed_run) -> None:
    """databricks-cli 0.18 `JobsService.repair` posts to /api/2.0/jobs/runs/repair by default, so 2.0 serves it."""
    from databricks_cli.sdk.api_client import ApiClient
    from databricks_cli.sdk.service import JobsService

    api_client = ApiClient(host=workspace.host, token=workspace.token)
    api_client.url = workspace.host + "/api/"
    response = JobsService(api_client).repair(failed_run["run_id"], rerun_all_failed_tasks=True)
    assert isinstance(response["repair_id"], int)
    _wait(workspace, failed_run["run_id"])


def test_repair_history_survives_a_restart_and_a_repair_in_flight_ends_internal_error(tmp_path: Path) -> None:
    with Workspace.start(state_dir=tmp_path) as ws:
        job_id = _job(ws, "/Shared/never-reached", {"only": []})
        ws.faults.task("FAILED", job_id=job_id, message="still broken")
        run_id = _ok(ws, "POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"]
        _wait(ws, run_id)
        first = _ok(ws, "POST", "/api/2.1/jobs/runs/repair", json={"run_id": run_id, "rerun_tasks": ["only"]})
        _wait(ws, run_id)
        ws.faults.reset()
        ws.faults.task("SLOW_START", job_id=job_id, delay_seconds=600)
        second = _ok(ws, "POST", "/api/2.1/jobs/runs/repair", json={
            "run_id": run_id, "rerun_tasks": ["only"], "latest_repair_id": first["repair_id"]})
        assert _run(ws, run_id)["state"]["life_cycle_state"] in ("PENDING", "RUNNING")

    with Workspace.start(state_dir=tmp_path) as ws:
        run = _run(ws, run_id, include_history="true")
        assert run["state"]["life_cycle_state"] == "INTERNAL_ERROR"
        assert [(h["type"], h.get("id")) for h in run["repair_history"]] == [
            ("ORIGINAL", None), ("REPAIR", first["repair_id"]), ("REPAIR", second["repair_id"])]
        assert run["repair_history"][1]["state"]["result_state"] == "FAILED"
        assert run["repair_history"][2]["state"]["life_cycle_state"] == "INTERNAL_ERROR"
        assert run["repair_history"][2]["end_time"] > 0
        # Sequencing survives too: the id from before the restart is the one to quote.
        stale = _api(ws, "POST", "/api/2.1/jobs/runs/repair", json={
            "run_id": run_id, "rerun_tasks": ["only"], "latest_repair_id": first["repair_id"]})
        assert stale.status_code == 400
        ws.faults.task("FAILED", job_id=job_id, message="still broken")
        third = _ok(ws, "POST", "/api/2.1/jobs/runs/repair", json={
            "run_id": run_id, "rerun_tasks": ["only"], "latest_repair_id": second["repair_id"]})
        assert third["repair_id"] > second["repair_id"]
        _wait(ws, run_id)
