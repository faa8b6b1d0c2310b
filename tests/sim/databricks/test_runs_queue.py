"""Run queueing (`max_concurrent_runs` with `queue.enabled`) and cancel, as a workspace reports them."""

from __future__ import annotations

import itertools

import pytest
from databricks.sdk.service import jobs

from sim import clock

pytestmark = pytest.mark.slow

# Sleeps for the `sleep` widget's seconds, in short steps so a cancel stops it promptly.
SLEEP_FOR_WIDGET = """
import time
dbutils.widgets.text("sleep", "0")
for _ in range(int(float(dbutils.widgets.get("sleep")) * 10)):
    time.sleep(0.1)
"""


def _state(client, run_id: int) -> str:
    return client.jobs.get_run(run_id).state.life_cycle_state.value


def _wait_for(client, run_id: int, states: tuple[str, ...], timeout: float = 120) -> jobs.Run:
    deadline = clock.now() + timeout
    while clock.now() < deadline:
        run = client.jobs.get_run(run_id)
        if run.state.life_cycle_state.value in states:
            return run
        clock.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached {states}")


def test_a_queued_run_waits_for_the_active_one_and_starts_when_it_is_cancelled(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/sleep_for_widget", SLEEP_FOR_WIDGET)
    job_id = client.jobs.create(
        name="queued", max_concurrent_runs=1, queue=jobs.QueueSettings(enabled=True),
        tasks=[jobs.Task(task_key="main", notebook_task=jobs.NotebookTask(notebook_path=path))],
    ).job_id
    first = client.jobs.run_now(job_id=job_id, notebook_params={"sleep": "60"}).run_id
    _wait_for(client, first, ("RUNNING",))
    second = client.jobs.run_now(job_id=job_id, notebook_params={"sleep": "0"}).run_id
    queued = client.jobs.get_run(second)
    assert queued.state.life_cycle_state == jobs.RunLifeCycleState.QUEUED
    assert queued.status.state == jobs.RunLifecycleStateV2State.QUEUED
    assert _state(client, second) == "QUEUED", "still queued while the first run is active"

    client.jobs.cancel_run(first)
    ended = _wait_for(client, second, ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"))
    assert ended.state.result_state == jobs.RunResultState.SUCCESS
    cancelled = client.jobs.get_run(first)
    assert cancelled.state.result_state == jobs.RunResultState.CANCELED
    assert cancelled.end_time <= ended.tasks[0].start_time, "the queued run started only after the slot freed"


def test_cancelling_a_queued_run_ends_it_cancelled_without_running_its_task(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/sleep_for_widget", SLEEP_FOR_WIDGET)
    job_id = client.jobs.create(
        name="queued-cancel", max_concurrent_runs=1, queue=jobs.QueueSettings(enabled=True),
        tasks=[jobs.Task(task_key="main", notebook_task=jobs.NotebookTask(notebook_path=path))],
    ).job_id
    first = client.jobs.run_now(job_id=job_id, notebook_params={"sleep": "60"}).run_id
    _wait_for(client, first, ("RUNNING",))
    second = client.jobs.run_now(job_id=job_id).run_id
    assert _state(client, second) == "QUEUED"
    client.jobs.cancel_run(second)
    ended = _wait_for(client, second, ("TERMINATED", "INTERNAL_ERROR"), timeout=30)
    assert ended.state.result_state == jobs.RunResultState.CANCELED
    assert all(t.cluster_instance is None for t in ended.tasks), "no task ran on a cluster"
    assert _state(client, first) == "RUNNING", "cancelling the queued run leaves the active one alone"
    client.jobs.cancel_run(first)
    _wait_for(client, first, ("TERMINATED",))


def test_queued_runs_start_in_the_order_they_were_queued(client, workspace) -> None:
    job_id = client.jobs.create(
        name="queue-order", max_concurrent_runs=1, queue=jobs.QueueSettings(enabled=True),
        tasks=[jobs.Task(task_key="hold", condition_task=jobs.ConditionTask(
            op=jobs.ConditionTaskOp.EQUAL_TO, left="a", right="a"))],
    ).job_id
    workspace.faults.task("SLOW_START", job_id=job_id, task_key="hold", delay_seconds=600, times=1)
    first = client.jobs.run_now(job_id=job_id).run_id
    _wait_for(client, first, ("RUNNING",))
    queued = [client.jobs.run_now(job_id=job_id).run_id for _ in range(3)]
    assert [_state(client, r) for r in queued] == ["QUEUED"] * 3

    client.jobs.cancel_run(first)
    ended = [_wait_for(client, r, ("TERMINATED",)) for r in queued]
    assert [r.state.result_state for r in ended] == [jobs.RunResultState.SUCCESS] * 3
    starts = [r.tasks[0].start_time for r in ended]
    assert starts == sorted(starts) and all(a.end_time <= b.tasks[0].start_time for a, b in itertools.pairwise(ended))
