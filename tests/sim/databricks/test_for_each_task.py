"""For each tasks (`for_each_task`), through databricks-sdk.

Jobs API 2.2 / databricks-sdk `ForEachTask`, `RunForEachTask.stats`, `Run.iterations`: the nested task
runs once per input item with `{{input}}` / `{{input.<field>}}` resolved, at most `concurrency` at a
time; runs/get of the job run shows the For each task with its stats, runs/get of the For each task
run lists the iterations; a failed iteration fails the For each task; retries are per iteration.
Nested condition tasks keep most of these runs free of Spark.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service import jobs

from sim.databricks import Workspace
from tests.sim.databricks.run_waits import wait_terminal

pytestmark = pytest.mark.slow
Op = jobs.ConditionTaskOp




def _for_each(inputs: str, nested: jobs.Task, **kwargs) -> jobs.Task:
    return jobs.Task(task_key="loop", for_each_task=jobs.ForEachTask(inputs=inputs, task=nested, **kwargs))


def _is_number(key: str = "is_number") -> jobs.Task:
    """A nested condition task that fails for an item that is not a number (LESS_THAN compares numbers)."""
    return jobs.Task(task_key=key, condition_task=jobs.ConditionTask(op=Op.LESS_THAN, left="{{input}}", right="100"))


def test_the_nested_notebook_runs_once_per_item_with_input_fields_resolved(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/echo_item", 'dbutils.notebook.exit(dbutils.widgets.get("item") + "|" '
                                                      '+ dbutils.widgets.get("name"))\n')
    items = [{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c", "n": 3}]
    job_id = client.jobs.create(name="for-each-notebook", tasks=[_for_each(json.dumps(items), jobs.Task(
        task_key="echo", notebook_task=jobs.NotebookTask(
            notebook_path=path, base_parameters={"item": "{{input}}", "name": "{{input.name}}"})),
        concurrency=2)]).job_id
    run = client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=5))

    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert [t.task_key for t in run.tasks] == ["loop"], "iterations are not tasks of the job run"
    loop = run.tasks[0]
    assert loop.for_each_task.stats.task_run_stats.as_dict() == {
        "total_iterations": 3, "scheduled_iterations": 3, "active_iterations": 0, "completed_iterations": 3,
        "succeeded_iterations": 3, "failed_iterations": 0}
    assert loop.for_each_task.concurrency == 2 and loop.cluster_instance is None

    iterations = client.jobs.get_run(loop.run_id).iterations
    assert len(iterations) == 3 and {i.task_key for i in iterations} == {"echo"}
    outputs = sorted(client.jobs.get_run_output(i.run_id).notebook_output.result for i in iterations)
    assert outputs == sorted(f"{json.dumps(item)}|{item['name']}" for item in items)


def test_inputs_from_a_job_parameter_and_a_failing_iteration_fails_the_for_each_task(client) -> None:
    job_id = client.jobs.create(
        name="for-each-fails", parameters=[jobs.JobParameterDefinition(name="items", default='["1", "abc", "3"]')],
        tasks=[_for_each("{{job.parameters.items}}", _is_number(), concurrency=3),
               jobs.Task(task_key="after", depends_on=[jobs.TaskDependency("loop")],
                         condition_task=jobs.ConditionTask(op=Op.EQUAL_TO, left="a", right="a"))],
    ).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)

    tasks = {t.task_key: t for t in run.tasks}
    assert tasks["loop"].state.result_state == jobs.RunResultState.FAILED
    assert tasks["after"].state.result_state == jobs.RunResultState.UPSTREAM_FAILED
    assert run.state.result_state == jobs.RunResultState.FAILED
    stats = tasks["loop"].for_each_task.stats
    assert (stats.task_run_stats.succeeded_iterations, stats.task_run_stats.failed_iterations) == (2, 1)
    assert stats.error_message_stats[0].count == 1 and "abc" in stats.error_message_stats[0].error_message
    iterations = client.jobs.get_run(tasks["loop"].run_id).iterations
    results = sorted((i.state.result_state.value, i.condition_task.outcome or "") for i in iterations)
    assert results == [("FAILED", ""), ("SUCCESS", "true"), ("SUCCESS", "true")], "every iteration ran"


def test_retries_are_per_iteration(client, workspace: Workspace) -> None:
    job_id = client.jobs.create(name="for-each-retries", tasks=[
        _for_each('["1", "2"]', jobs.Task(task_key="flaky", max_retries=1, condition_task=jobs.ConditionTask(
            op=Op.LESS_THAN, left="{{input}}", right="100")))]).job_id
    workspace.faults.task("FAILED", job_id=job_id, task_key="flaky", attempts=[0], message="flaky iteration")
    run = client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=2))

    assert run.state.result_state == jobs.RunResultState.SUCCESS
    iterations = client.jobs.get_run(run.tasks[0].run_id).iterations
    assert sorted((i.attempt_number, i.state.result_state.value) for i in iterations) == [
        (0, "FAILED"), (0, "FAILED"), (1, "SUCCESS"), (1, "SUCCESS")]
    assert run.tasks[0].for_each_task.stats.task_run_stats.succeeded_iterations == 2, "latest attempts only"


def test_more_than_a_page_of_iterations_comes_back_whole_through_the_sdk(client) -> None:
    job_id = client.jobs.create(name="for-each-many", tasks=[
        _for_each(json.dumps([str(n) for n in range(120)]), _is_number(), concurrency=20)]).job_id
    run = client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=2))
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    iterations = client.jobs.get_run(run.tasks[0].run_id).iterations  # JobsExt.get_run follows the pages
    assert len(iterations) == 120 and len({i.run_id for i in iterations}) == 120


def test_inputs_that_are_not_a_json_array_fail_the_task(client) -> None:
    job_id = client.jobs.create(name="for-each-bad-inputs", tasks=[_for_each('{"a": 1}', _is_number())]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    assert run.tasks[0].state.result_state == jobs.RunResultState.FAILED
    assert "JSON array" in run.tasks[0].state.state_message


def test_a_nested_for_each_task_is_refused(client) -> None:
    inner = _for_each("[1]", _is_number())
    inner.task_key = "inner"
    with pytest.raises(InvalidParameterValue, match="nested For each"):
        client.jobs.create(name="nested", tasks=[_for_each("[1]", inner)])


def test_repairing_a_failed_for_each_task_runs_new_iterations_with_the_jobs_current_inputs(client) -> None:
    job_id = client.jobs.create(name="for-each-repair", tasks=[_for_each('["1", "abc"]', _is_number())]).job_id
    first = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    failed_loop = first.tasks[0]
    assert failed_loop.state.result_state == jobs.RunResultState.FAILED

    client.jobs.update(job_id, new_settings=jobs.JobSettings(tasks=[_for_each('["1", "2"]', _is_number())]))
    repaired = client.jobs.repair_run(first.run_id, rerun_all_failed_tasks=True).result(
        timeout=timedelta(minutes=2))

    assert repaired.state.result_state == jobs.RunResultState.SUCCESS
    assert [t.task_key for t in repaired.tasks] == ["loop"], "iterations stay out of the run's tasks"
    loop = repaired.tasks[0]
    assert loop.run_id != failed_loop.run_id
    assert loop.for_each_task.stats.task_run_stats.succeeded_iterations == 2
    new = client.jobs.get_run(loop.run_id).iterations
    old = client.jobs.get_run(failed_loop.run_id).iterations
    assert len(new) == 2 and {i.run_id for i in new}.isdisjoint({i.run_id for i in old})
    assert sorted(i.state.result_state.value for i in old) == ["FAILED", "SUCCESS"], "the first attempt's stay"
    history = client.jobs.get_run(first.run_id, include_history=True).repair_history
    assert [h.task_run_ids for h in history] == [[failed_loop.run_id], [loop.run_id]]


def test_inputs_from_a_task_value_a_notebook_set(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/list_files",
                           'dbutils.jobs.taskValues.set(key="files", value=["a.csv", "b.csv"])\n')
    job_id = client.jobs.create(name="for-each-task-value", tasks=[
        jobs.Task(task_key="list_files", notebook_task=jobs.NotebookTask(notebook_path=path)),
        jobs.Task(task_key="loop", depends_on=[jobs.TaskDependency("list_files")], for_each_task=jobs.ForEachTask(
            inputs="{{tasks.list_files.values.files}}", task=jobs.Task(
                task_key="is_csv", condition_task=jobs.ConditionTask(op=Op.NOT_EQUAL, left="{{input}}", right="")))),
    ]).job_id
    run = client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=5))
    loop = next(t for t in run.tasks if t.task_key == "loop")
    iterations = client.jobs.get_run(loop.run_id, include_resolved_values=True).iterations
    assert sorted(i.resolved_values.condition_task.left for i in iterations) == ["a.csv", "b.csv"]
