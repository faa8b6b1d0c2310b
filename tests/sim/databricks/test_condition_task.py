"""If/else condition tasks (`condition_task`) and `depends_on[].outcome`, through databricks-sdk.

Jobs API 2.2 `ConditionTask` / `RunConditionTask` and docs.databricks.com/jobs/conditional-tasks:
EQUAL_TO / NOT_EQUAL compare strings, the other operators numbers; the outcome is in the task run's
`condition_task.outcome`; a dependent on the other outcome is EXCLUDED, and excluded counts as success.
Condition tasks need no cluster, so most of these runs take no Spark at all.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service import jobs

from tests.sim.databricks.run_waits import wait_terminal

pytestmark = pytest.mark.slow
Op = jobs.ConditionTaskOp




def _condition(key: str, left: str, op: jobs.ConditionTaskOp, right: str, **kwargs) -> jobs.Task:
    return jobs.Task(task_key=key, condition_task=jobs.ConditionTask(op=op, left=left, right=right), **kwargs)


def _by_key(run: jobs.Run) -> dict[str, jobs.RunTask]:
    return {t.task_key: t for t in run.tasks}


def test_string_and_numeric_operators_compare_as_the_jobs_api_documents(client) -> None:
    cases = {
        "eq_string": ("12.0", Op.EQUAL_TO, "12", "false"),  # string comparison
        "eq_same": ("abc", Op.EQUAL_TO, "abc", "true"),
        "ne": ("12.0", Op.NOT_EQUAL, "12", "true"),
        "ge_numeric": ("12.0", Op.GREATER_THAN_OR_EQUAL, "12", "true"),  # numeric comparison
        "ge_less": ("10.0", Op.GREATER_THAN_OR_EQUAL, "12", "false"),
        "gt": ("9", Op.GREATER_THAN, "10", "false"),  # numbers, not strings ("9" > "10" as text)
        "lt": ("9", Op.LESS_THAN, "10", "true"),
        "le": ("10", Op.LESS_THAN_OR_EQUAL, "10.0", "true"),
    }
    job_id = client.jobs.create(name="conditions", tasks=[
        _condition(key, left, op, right) for key, (left, op, right, _) in cases.items()]).job_id
    run = client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=2))

    assert run.state.result_state == jobs.RunResultState.SUCCESS
    tasks = _by_key(run)
    assert {k: tasks[k].condition_task.outcome for k in cases} == {k: c[3] for k, c in cases.items()}
    assert all(t.state.result_state == jobs.RunResultState.SUCCESS for t in run.tasks)
    assert all(t.cluster_instance is None for t in run.tasks), "a condition task runs on no cluster"
    assert tasks["ge_numeric"].condition_task.op == Op.GREATER_THAN_OR_EQUAL
    single = client.jobs.get_run(tasks["lt"].run_id)  # a task run read by its own id
    assert single.tasks[0].condition_task.outcome == "true"


def test_the_outcome_a_dependency_names_runs_and_the_other_branch_is_excluded(client) -> None:
    job_id = client.jobs.create(name="branches", tasks=[
        _condition("check", "{{job.parameters.rows}}", Op.GREATER_THAN, "0"),
        _condition("on_true", "a", Op.EQUAL_TO, "a", depends_on=[jobs.TaskDependency("check", outcome="true")]),
        _condition("on_false", "a", Op.EQUAL_TO, "a", depends_on=[jobs.TaskDependency("check", outcome="false")]),
        _condition("after_false", "a", Op.EQUAL_TO, "a", depends_on=[jobs.TaskDependency("on_false")]),
        _condition("join", "a", Op.EQUAL_TO, "a",
                   depends_on=[jobs.TaskDependency("on_true"), jobs.TaskDependency("on_false")]),
    ], parameters=[jobs.JobParameterDefinition(name="rows", default="5")]).job_id

    ran = _by_key(client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=2)))
    assert ran["check"].condition_task.outcome == "true"
    assert ran["on_true"].state.result_state == jobs.RunResultState.SUCCESS
    assert ran["on_false"].state.result_state == jobs.RunResultState.EXCLUDED
    assert ran["on_false"].state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    assert ran["after_false"].state.result_state == jobs.RunResultState.EXCLUDED, "all its dependencies excluded"
    assert ran["join"].state.result_state == jobs.RunResultState.SUCCESS, "an excluded dependency counts as success"

    other = client.jobs.run_now(job_id=job_id, job_parameters={"rows": "0"}).result(timeout=timedelta(minutes=2))
    flipped = _by_key(other)
    assert flipped["check"].condition_task.outcome == "false"
    assert flipped["on_true"].state.result_state == jobs.RunResultState.EXCLUDED
    assert flipped["on_false"].state.result_state == jobs.RunResultState.SUCCESS
    assert other.state.result_state == jobs.RunResultState.SUCCESS


def test_a_condition_on_a_task_value_set_by_a_notebook(client, upload_notebook) -> None:
    path = upload_notebook("/Shared/tests/count_bad", 'dbutils.jobs.taskValues.set(key="bad_records", value=3)\n')
    job_id = client.jobs.create(name="task-value-condition", tasks=[
        jobs.Task(task_key="process_records", notebook_task=jobs.NotebookTask(notebook_path=path)),
        _condition("has_bad", "{{tasks.process_records.values.bad_records}}", Op.GREATER_THAN, "0",
                   depends_on=[jobs.TaskDependency("process_records")]),
        _condition("state", "{{tasks.process_records.result_state}}", Op.EQUAL_TO, "success",
                   depends_on=[jobs.TaskDependency("process_records")]),
    ]).job_id
    run = client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=5))
    tasks = _by_key(run)
    assert tasks["has_bad"].condition_task.outcome == "true"
    assert tasks["state"].condition_task.outcome == "true"


def test_a_condition_on_a_missing_task_value_fails_and_its_branches_do_not_run(client) -> None:
    job_id = client.jobs.create(name="missing-value", tasks=[
        _condition("first", "1", Op.EQUAL_TO, "1"),
        _condition("check", "{{tasks.first.values.never_set}}", Op.EQUAL_TO, "x",
                   depends_on=[jobs.TaskDependency("first")]),
        _condition("on_true", "a", Op.EQUAL_TO, "a", depends_on=[jobs.TaskDependency("check", outcome="true")]),
    ]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    tasks = _by_key(run)
    assert tasks["check"].state.result_state == jobs.RunResultState.FAILED
    assert "never_set" in tasks["check"].state.state_message
    assert tasks["check"].condition_task.outcome is None
    assert tasks["on_true"].state.result_state == jobs.RunResultState.UPSTREAM_FAILED
    assert run.state.result_state == jobs.RunResultState.FAILED
    assert run.state.state_message.startswith("Task check failed with message:")


def test_a_numeric_operator_on_text_fails_the_condition_task(client) -> None:
    job_id = client.jobs.create(name="not-a-number", tasks=[_condition("check", "abc", Op.LESS_THAN, "1")]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    assert run.tasks[0].state.result_state == jobs.RunResultState.FAILED
    assert "LESS_THAN" in run.tasks[0].state.state_message


def test_an_outcome_on_a_dependency_that_is_not_a_condition_task_is_refused(client) -> None:
    with pytest.raises(InvalidParameterValue, match="not a condition task"):
        client.jobs.create(name="bad-outcome", tasks=[
            jobs.Task(task_key="nb", notebook_task=jobs.NotebookTask(notebook_path="/Shared/x")),
            _condition("c", "1", Op.EQUAL_TO, "1", depends_on=[jobs.TaskDependency("nb", outcome="true")]),
        ])
