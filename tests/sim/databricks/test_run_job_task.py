"""Run Job tasks (`run_job_task`), through databricks-sdk.

Jobs API 2.2 / databricks-sdk `RunJobTask`, `TriggerType.RUN_JOB_TASK`, `TriggerInfo.run_id`,
`RunOutput.run_job_output`: the task starts a run of another job with `job_parameters`, waits for it,
and ends as it did; the child run names the task run that started it and the task run's output names
the child; cancelling the parent cancels the child. Child jobs here are condition tasks (no Spark);
a SLOW_START fault holds a child task long enough to cancel it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from databricks.sdk.service import jobs

from sim import clock
from sim.databricks import Workspace
from tests.sim.databricks.run_waits import wait_terminal

pytestmark = pytest.mark.slow
Op = jobs.ConditionTaskOp




def _child_job(client, name: str, left: str, op: jobs.ConditionTaskOp = Op.EQUAL_TO, right: str = "5") -> int:
    return client.jobs.create(
        name=name, parameters=[jobs.JobParameterDefinition(name="threshold", default="1")],
        tasks=[jobs.Task(task_key="child_check", condition_task=jobs.ConditionTask(op=op, left=left, right=right)),
               jobs.Task(task_key="trigger_type", condition_task=jobs.ConditionTask(
                   op=Op.EQUAL_TO, left="{{job.trigger.type}}", right="run_job_task"))],
    ).job_id


def _parent_job(client, name: str, child_id: int, **run_job) -> int:
    return client.jobs.create(
        name=name, parameters=[jobs.JobParameterDefinition(name="t", default="5")],
        tasks=[jobs.Task(task_key="start_child", run_job_task=jobs.RunJobTask(job_id=child_id, **run_job))],
    ).job_id


def _child_run_id(client, parent_task: jobs.RunTask) -> int:
    return client.jobs.get_run_output(parent_task.run_id).run_job_output.run_id


def test_the_child_run_gets_the_job_parameters_and_parent_and_child_are_linked(client) -> None:
    child_job = _child_job(client, "child", "{{job.parameters.threshold}}")
    parent_job = _parent_job(client, "parent", child_job, job_parameters={"threshold": "{{job.parameters.t}}"})
    parent = client.jobs.run_now(job_id=parent_job).result(timeout=timedelta(minutes=2))

    assert parent.state.result_state == jobs.RunResultState.SUCCESS
    task = parent.tasks[0]
    assert task.run_job_task.job_id == child_job and task.cluster_instance is None
    child_id = _child_run_id(client, task)
    child = client.jobs.get_run(child_id)
    assert child.job_id == child_job and child.run_type == jobs.RunType.JOB_RUN
    assert child.trigger == jobs.TriggerType.RUN_JOB_TASK and child.trigger_info.run_id == task.run_id
    assert {p.name: p.value for p in child.job_parameters} == {"threshold": "5"}, "resolved in the parent"
    resolved = client.jobs.get_run(parent.run_id, include_resolved_values=True).tasks[0].resolved_values
    assert resolved.run_job_task.job_parameters == {"threshold": "5"}
    outcomes = {t.task_key: t.condition_task.outcome for t in child.tasks}
    assert outcomes == {"child_check": "true", "trigger_type": "true"}
    assert child_id in [r.run_id for r in client.jobs.list_runs(job_id=child_job)]


def test_a_failed_child_run_fails_the_run_job_task_and_the_parent(client) -> None:
    child_job = _child_job(client, "child-fails", "not a number", Op.GREATER_THAN)
    parent_job = _parent_job(client, "parent-of-failure", child_job)
    parent = wait_terminal(client, client.jobs.run_now(job_id=parent_job).run_id)

    task = parent.tasks[0]
    child = client.jobs.get_run(_child_run_id(client, task))
    assert child.state.result_state == jobs.RunResultState.FAILED
    assert task.state.result_state == jobs.RunResultState.FAILED
    assert str(child.run_id) in task.state.state_message
    assert parent.state.result_state == jobs.RunResultState.FAILED


def test_cancelling_the_parent_cancels_the_child(client, workspace: Workspace) -> None:
    child_job = _child_job(client, "child-slow", "5")
    workspace.faults.task("SLOW_START", job_id=child_job, task_key="child_check", delay_seconds=600)
    parent_job = _parent_job(client, "parent-cancelled", child_job)
    parent_id = client.jobs.run_now(job_id=parent_job).run_id
    deadline = clock.now() + 60
    while not list(client.jobs.list_runs(job_id=child_job, active_only=True)):
        assert clock.now() < deadline, "the child run never started"
        clock.sleep(0.1)

    client.jobs.cancel_run(parent_id)
    parent = wait_terminal(client, parent_id, timeout=60)
    child = wait_terminal(client, _child_run_id(client, parent.tasks[0]), timeout=60)
    assert child.state.result_state == jobs.RunResultState.CANCELED
    assert parent.tasks[0].state.result_state == jobs.RunResultState.CANCELED
    assert parent.state.result_state == jobs.RunResultState.CANCELED


def test_cancelling_the_child_ends_the_run_job_task_cancelled(client, workspace: Workspace) -> None:
    child_job = _child_job(client, "child-cancelled", "5")
    workspace.faults.task("SLOW_START", job_id=child_job, task_key="child_check", delay_seconds=600)
    parent_id = client.jobs.run_now(job_id=_parent_job(client, "parent-of-cancelled", child_job)).run_id
    deadline = clock.now() + 60
    while not (active := list(client.jobs.list_runs(job_id=child_job, active_only=True))):
        assert clock.now() < deadline, "the child run never started"
        clock.sleep(0.1)

    client.jobs.cancel_run(active[0].run_id)
    parent = wait_terminal(client, parent_id, timeout=60)
    assert parent.tasks[0].state.result_state == jobs.RunResultState.CANCELED


def test_a_run_job_task_for_a_job_that_does_not_exist_fails(client) -> None:
    parent_job = _parent_job(client, "parent-of-nothing", 987654321)
    parent = wait_terminal(client, client.jobs.run_now(job_id=parent_job).run_id)
    assert parent.tasks[0].state.result_state == jobs.RunResultState.FAILED
    assert parent.tasks[0].state.state_message == "Job 987654321 does not exist."
