"""Stopping a run while its attempts run: the run's timeout and a cancel reach attempts on clusters and
For each iterations, through databricks-sdk."""

from __future__ import annotations

import pytest
from databricks.sdk.service import jobs

from sim import clock
from sim.databricks import Workspace
from tests.sim.databricks.run_waits import wait_terminal

pytestmark = pytest.mark.slow
SLEEPING_NOTEBOOK = "import time\nfor _ in range(600):\n    time.sleep(0.1)\n"




def test_the_runs_timeout_stops_a_running_notebook_and_ends_both_timedout(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/sleeping", SLEEPING_NOTEBOOK)
    job_id = client.jobs.create(name="run-timeout", timeout_seconds=3, tasks=[
        jobs.Task(task_key="main", notebook_task=jobs.NotebookTask(notebook_path=path))]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)

    assert run.state.result_state == jobs.RunResultState.TIMEDOUT
    assert run.state.state_message == "Run timed out after 3 seconds."
    assert run.tasks[0].state.result_state == jobs.RunResultState.TIMEDOUT
    assert run.tasks[0].state.user_cancelled_or_timedout
    assert run.run_duration < 60_000, "the notebook (a minute of sleep) was stopped, not waited for"


def test_cancelling_a_for_each_run_cancels_its_iterations_and_starts_no_more(client, workspace: Workspace) -> None:
    job_id = client.jobs.create(name="for-each-cancel", tasks=[jobs.Task(
        task_key="loop", for_each_task=jobs.ForEachTask(inputs='["1", "2", "3", "4"]', concurrency=2, task=jobs.Task(
            task_key="slow", condition_task=jobs.ConditionTask(
                op=jobs.ConditionTaskOp.EQUAL_TO, left="{{input}}", right="1"))))]).job_id
    workspace.faults.task("SLOW_START", job_id=job_id, task_key="slow", delay_seconds=600)
    run_id = client.jobs.run_now(job_id=job_id).run_id
    deadline = clock.now() + 60
    while True:
        loop = client.jobs.get_run(run_id).tasks[0]
        if loop.for_each_task.stats and loop.for_each_task.stats.task_run_stats.active_iterations == 2:
            break
        assert clock.now() < deadline, "two iterations never ran at once"
        clock.sleep(0.1)

    client.jobs.cancel_run(run_id)
    run = wait_terminal(client, run_id, timeout=60)
    assert run.state.result_state == jobs.RunResultState.CANCELED
    assert run.tasks[0].state.result_state == jobs.RunResultState.CANCELED
    iterations = client.jobs.get_run(run.tasks[0].run_id).iterations
    assert [i.state.result_state for i in iterations] == [jobs.RunResultState.CANCELED] * 2
    assert run.tasks[0].for_each_task.stats.task_run_stats.scheduled_iterations == 2
