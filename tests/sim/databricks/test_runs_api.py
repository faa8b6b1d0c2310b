"""Runs on real clusters, driven by databricks-sdk and the legacy databricks-cli.

Task bodies stay short: the SDK's `.result()` polls with sleeps of min(attempt, 10) s.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from databricks.sdk.service import compute, jobs

from sim import clock
from sim.databricks import Workspace
from tests.sim.databricks.run_waits import wait_terminal

pytestmark = pytest.mark.slow

WIDGETS_NOTEBOOK = """
dbutils.widgets.text("greeting", "unused default")
greeting = dbutils.widgets.get("greeting")
name = dbutils.widgets.get("name")
total = spark.range(5).groupBy().sum("id").collect()[0][0]
print("computed", total)
# COMMAND ----------
dbutils.notebook.exit(f"{greeting} {name} {total}")
"""
OK_NOTEBOOK = 'print("ok")\n'
FAILING_NOTEBOOK = 'raise ValueError("boom in the middle")\n'
SLEEPING_NOTEBOOK = "import time\nfor _ in range(600):\n    time.sleep(0.1)\n"


def _nb_task(key: str, path: str, **kwargs) -> jobs.Task:
    return jobs.Task(task_key=key, notebook_task=jobs.NotebookTask(notebook_path=path), **kwargs)




def _wait_task_state(client, run_id: int, state: str, timeout: float = 120) -> None:
    deadline = clock.now() + timeout
    while clock.now() < deadline:
        run = client.jobs.get_run(run_id)
        if run.tasks and run.tasks[-1].state.life_cycle_state.value == state:
            return
        clock.sleep(0.1)
    raise AssertionError(f"the task of run {run_id} never reached {state}")


def test_run_now_result_reads_widgets_and_returns_the_exit_value(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/widgets", WIDGETS_NOTEBOOK)
    job_id = client.jobs.create(name="widgets", tasks=[jobs.Task(
        task_key="main",
        notebook_task=jobs.NotebookTask(notebook_path=path, base_parameters={"greeting": "hello", "name": "base"}),
    )]).job_id
    run = client.jobs.run_now(job_id=job_id, notebook_params={"name": "world"}).result(timeout=timedelta(minutes=5))
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert run.status.state == jobs.RunLifecycleStateV2State.TERMINATED and run.run_page_url
    output = client.jobs.get_run_output(run.tasks[0].run_id)
    assert output.notebook_output.result == "hello world 10"
    assert client.jobs.get_run_output(run.run_id).notebook_output.result == "hello world 10"


def test_second_run_on_the_same_cluster_reuses_the_warm_spark_session(
        client, upload_notebook, workspace: Workspace) -> None:
    path = upload_notebook("/Shared/tests/spark", "print(spark.range(3).count())\n")
    job_id = client.jobs.create(name="warm", tasks=[_nb_task("main", path)]).job_id
    runs = [wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id) for _ in range(2)]
    task_runs = [workspace.backend.runs.task_run(r.tasks[0].run_id) for r in runs]
    assert runs[0].tasks[0].cluster_instance.cluster_id == runs[1].tasks[0].cluster_instance.cluster_id
    assert task_runs[1].spark_session_reused is True


def test_runs_list_keeps_the_runs_that_started_between_start_time_from_and_start_time_to(
        client, upload_notebook) -> None:
    """Jobs API runs/list: "Show runs that started at or after / at or before this value" (epoch ms, both
    inclusive), through databricks-sdk's `list_runs(start_time_from=, start_time_to=)`."""
    path = upload_notebook("/Shared/tests/ok-window", OK_NOTEBOOK)
    job_id = client.jobs.create(name=f"window-{uuid.uuid4().hex[:6]}", tasks=[_nb_task("main", path)]).job_id
    first = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    second = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    assert first.start_time < second.start_time

    def listed(**window: int) -> list[int]:
        return [r.run_id for r in client.jobs.list_runs(job_id=job_id, **window)]

    assert listed(start_time_from=second.start_time) == [second.run_id]
    assert listed(start_time_to=first.start_time) == [first.run_id]
    assert listed(start_time_from=first.start_time, start_time_to=second.start_time) == [second.run_id, first.run_id]
    assert listed(start_time_from=second.start_time + 1) == []


def test_submit_three_tasks_with_a_failing_middle_reports_as_a_workspace(client, upload_notebook) -> None:
    from databricks.sdk.errors import OperationFailed

    ok = upload_notebook("/Shared/tests/ok", OK_NOTEBOOK)
    failing = upload_notebook("/Shared/tests/failing", FAILING_NOTEBOOK)
    waiter = client.jobs.submit(run_name="three", tasks=[
        jobs.SubmitTask(task_key="extract", notebook_task=jobs.NotebookTask(notebook_path=ok)),
        jobs.SubmitTask(task_key="transform", notebook_task=jobs.NotebookTask(notebook_path=failing),
                        depends_on=[jobs.TaskDependency(task_key="extract")]),
        jobs.SubmitTask(task_key="load", notebook_task=jobs.NotebookTask(notebook_path=ok),
                        depends_on=[jobs.TaskDependency(task_key="transform")]),
    ])
    with pytest.raises(OperationFailed, match="Task transform failed with message"):
        waiter.result(timeout=timedelta(minutes=5))
    run = client.jobs.get_run(waiter.run_id)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR
    assert run.state.result_state == jobs.RunResultState.FAILED
    assert run.state.state_message == (
        "Task transform failed with message: Workload failed, see run output for details.")
    assert run.status.state == jobs.RunLifecycleStateV2State.TERMINATED
    assert run.status.termination_details.code == jobs.TerminationCodeCode.RUN_EXECUTION_ERROR
    states = {t.task_key: t.state.result_state for t in run.tasks}
    assert states == {"extract": jobs.RunResultState.SUCCESS, "transform": jobs.RunResultState.FAILED,
                      "load": jobs.RunResultState.UPSTREAM_FAILED}
    failed = next(t for t in run.tasks if t.task_key == "transform")
    output = client.jobs.get_run_output(failed.run_id)
    assert output.error == "ValueError: boom in the middle"
    assert "Traceback" in output.error_trace and "boom in the middle" in output.error_trace


def test_get_output_of_a_multi_task_parent_is_refused(client, upload_notebook) -> None:
    from databricks.sdk.errors import InvalidParameterValue

    ok = upload_notebook("/Shared/tests/ok", OK_NOTEBOOK)
    run_id = client.jobs.submit(run_name="two", tasks=[
        jobs.SubmitTask(task_key="a", notebook_task=jobs.NotebookTask(notebook_path=ok)),
        jobs.SubmitTask(task_key="b", notebook_task=jobs.NotebookTask(notebook_path=ok)),
    ]).run_id
    wait_terminal(client, run_id)
    with pytest.raises(InvalidParameterValue, match="Retrieving the output of runs with multiple tasks"):
        client.jobs.get_run_output(run_id)


def test_failure_style_terminated_lets_result_return(tmp_path, client) -> None:
    from databricks.sdk import WorkspaceClient

    with Workspace.start(state_dir=tmp_path, failure_style="terminated") as ws:
        ws.faults.task("FAILED", task_key="only", message="injected failure")
        w = WorkspaceClient(host=ws.host, token=ws.token)
        job_id = w.jobs.create(name="t", tasks=[_nb_task("only", "/Shared/anything")]).job_id
        run = wait_terminal(w, w.jobs.run_now(job_id=job_id).run_id)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.FAILED
    assert run.state.state_message == "Task only failed with message: injected failure."


def test_cancel_stops_a_running_task(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/sleeping", SLEEPING_NOTEBOOK)
    job_id = client.jobs.create(name="cancel", tasks=[_nb_task("main", path)]).job_id
    run_id = client.jobs.run_now(job_id=job_id).run_id
    _wait_task_state(client, run_id, "RUNNING")
    client.jobs.cancel_run(run_id)
    run = wait_terminal(client, run_id)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.CANCELED and run.state.user_cancelled_or_timedout
    assert run.tasks[0].state.result_state == jobs.RunResultState.CANCELED


def test_task_timeout_ends_timedout(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/sleeping", SLEEPING_NOTEBOOK)
    job_id = client.jobs.create(name="timeout", tasks=[_nb_task("main", path, timeout_seconds=1)]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    assert run.tasks[-1].state.result_state == jobs.RunResultState.TIMEDOUT


def test_injected_429_before_run_now_is_retried_and_creates_one_run(
        client, workspace: Workspace, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/ok", OK_NOTEBOOK)
    job_id = client.jobs.create(name="throttled", tasks=[_nb_task("main", path)]).job_id
    fault = workspace.faults.http("POST /api/2.*/jobs/run-now", 429, times=1, retry_after=1)
    run_id = client.jobs.run_now(job_id=job_id).run_id
    assert fault.fired == 1 and fault.seen == 2  # refused once, then let through
    assert [r.run_id for r in client.jobs.list_runs(job_id=job_id)] == [run_id]
    wait_terminal(client, run_id)


def test_run_now_with_the_same_idempotency_token_returns_the_same_run(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/ok", OK_NOTEBOOK)
    job_id = client.jobs.create(name="idempotent", tasks=[_nb_task("main", path)]).job_id
    token = uuid.uuid4().hex
    first = client.jobs.run_now(job_id=job_id, idempotency_token=token).run_id
    second = client.jobs.run_now(job_id=job_id, idempotency_token=token).run_id
    assert first == second and len(list(client.jobs.list_runs(job_id=job_id))) == 1
    wait_terminal(client, first)


def test_retries_add_task_entries_with_rising_attempt_numbers(
        client, workspace: Workspace, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/ok", OK_NOTEBOOK)
    job_id = client.jobs.create(name="retried", tasks=[_nb_task("main", path, max_retries=2)]).job_id
    workspace.faults.task("FAILED", job_id=job_id, task_key="main", attempts=[0, 1], message="flaky")
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    assert [(t.attempt_number, t.state.result_state.value) for t in run.tasks] == [
        (0, "FAILED"), (1, "FAILED"), (2, "SUCCESS")]
    assert len({t.run_id for t in run.tasks}) == 3
    assert run.state.result_state == jobs.RunResultState.SUCCESS


def test_missing_notebook_fails_the_task_naming_it(client) -> None:
    job_id = client.jobs.create(name="missing", tasks=[_nb_task("main", "/Shared/does/not/exist")]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR
    assert '"/Shared/does/not/exist"' in run.tasks[0].state.state_message


def test_script_from_a_mounted_repo_gets_argv_and_logs(client, workspace: Workspace) -> None:
    (workspace.mounted_dir / "jobs").mkdir(exist_ok=True)
    (workspace.mounted_dir / "jobs" / "echo.py").write_text("import sys\nprint('argv', sys.argv[1:])\n")
    job_id = client.jobs.create(name="script", tasks=[jobs.Task(
        task_key="main", spark_python_task=jobs.SparkPythonTask(
            python_file="/Workspace/Repos/stepbricks/jobs/echo.py", parameters=["a", "{{job.run_id}}"]))]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id, python_params=["x", "y"]).run_id)
    assert run.state.result_state == jobs.RunResultState.SUCCESS, run.tasks[0].state
    assert "argv ['x', 'y']" in client.jobs.get_run_output(run.tasks[0].run_id).logs


def test_legacy_cli_run_now_of_seed_002(workspace: Workspace, client, upload_notebook) -> None:
    """Seed 002_ace25034c5073752: JobsApi(ApiClient(host, token)).run_now(job_id, notebook_params, ...)."""
    from databricks_cli.jobs.api import JobsApi
    from databricks_cli.sdk.api_client import ApiClient

    path = upload_notebook("/Shared/tests/ok", OK_NOTEBOOK)
    job_id = client.jobs.create(name="seed-002", tasks=[_nb_task("main", path)]).job_id
    api_client = ApiClient(host=workspace.host, token=workspace.token)
    api_client.url = workspace.host + "/api/"  # 0.18 drops the port from host (checklist, "Clients")
    response = JobsApi(api_client).run_now(
        job_id=job_id, notebook_params={"promise_id": "p-1", "url": "http://example.invalid"},
        jar_params=None, python_params=None, spark_submit_params=None,
    )
    run = wait_terminal(client, response["run_id"])
    assert response["number_in_job"] == response["run_id"]
    assert run.overriding_parameters.notebook_params == {"promise_id": "p-1", "url": "http://example.invalid"}
    assert run.state.result_state == jobs.RunResultState.SUCCESS


def test_task_timings_split_the_cluster_wait_from_the_code_as_the_jobs_api_defines_them(client, upload_notebook):
    """A task run's setup_duration is the wait for its cluster (a new job cluster's Spark start), its
    execution_duration the code, and the three sum to its run_duration; a MULTI_TASK run reports 0 for the
    three and its total as run_duration (Jobs API 2.2; databricks-sdk RunTask/Run docstrings); the task's own
    run (get-output's metadata) reports the task's timings."""
    path = upload_notebook("/Shared/tests/timed", "print(spark.range(3).count())\n")
    cold = client.jobs.submit(run_name="timed", tasks=[jobs.SubmitTask(
        task_key="main", notebook_task=jobs.NotebookTask(notebook_path=path),
        # A conf no idle worker of the process's pool (sim.compute.pool) was launched with: a real Spark start.
        new_cluster=compute.ClusterSpec(spark_version="15.4.x-scala2.12", num_workers=0,
                                        spark_conf={"spark.sql.shuffle.partitions": "3"}),
    )]).result(timeout=timedelta(minutes=5))
    on_default = [jobs.SubmitTask(task_key="main", notebook_task=jobs.NotebookTask(notebook_path=path))]
    wait_terminal(client, client.jobs.submit(run_name="timed-warm", tasks=on_default).run_id)  # cluster up
    warm = wait_terminal(client, client.jobs.submit(run_name="timed-warm", tasks=on_default).run_id)

    task = cold.tasks[0]
    assert task.setup_duration > 1000, "a new cluster's Spark start is setup, not execution"
    assert task.execution_duration > 0
    assert task.setup_duration + task.execution_duration + task.cleanup_duration == task.run_duration
    assert (cold.setup_duration, cold.execution_duration, cold.cleanup_duration) == (0, 0, 0)
    assert cold.run_duration >= task.run_duration
    assert warm.tasks[0].setup_duration < task.setup_duration
    metadata = client.jobs.get_run_output(task.run_id).metadata  # one task's run carries its own timings
    assert (metadata.setup_duration, metadata.execution_duration, metadata.cleanup_duration,
            metadata.run_duration) == (task.setup_duration, task.execution_duration, task.cleanup_duration,
                                       task.run_duration)


def test_a_workspace_asked_to_warm_starts_its_default_cluster_before_any_run(tmp_path) -> None:
    """`stepbricks up` / `Simulator.start` warm Spark in the background while the user deploys."""
    with Workspace.start(state_dir=tmp_path / "ws", warm_default_cluster=True) as warmed:
        assert [c.state for c in warmed.backend.compute().list()] in (["PENDING"], ["RUNNING"])
        assert [c.warm_engine for c in warmed.backend.compute().list()] == [False]  # a flight follows at once
        assert [c.warm_libraries for c in warmed.backend.compute().list()] == [False]
    with Workspace.start(state_dir=tmp_path / "up", warm_default_cluster=True, warm_engine=True) as up:
        assert [c.warm_engine for c in up.backend.compute().list()] == [True]  # `stepbricks up`: idle minutes
    with Workspace.start(state_dir=tmp_path / "run", warm_default_cluster=True, warm_libraries=True) as flight:
        # `stepbricks run`: its first training follows the ETL at once (sim/compute/worker.py)
        assert [(c.warm_engine, c.warm_libraries) for c in flight.backend.compute().list()] == [(False, True)]
    with Workspace.start(state_dir=tmp_path / "lazy") as lazy:
        pool = lazy.backend.compute()
        assert [c.state for c in pool.list()] == ["TERMINATED"]
