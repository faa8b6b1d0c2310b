"""Job parameters and dynamic value references (docs.databricks.com/jobs/dynamic-value-references),
through databricks-sdk: resolved in task parameters and job parameter defaults when the task runs,
run-now's `job_parameters` over the defaults, invalid references in a known namespace refused when the
job is saved, other `{{...}}` left literal, and a reference without a value failing the task."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service import jobs

from tests.sim.databricks.run_waits import wait_terminal

pytestmark = pytest.mark.slow

# Exits with every widget it was given, as JSON.
WIDGETS_AS_JSON = """
import json
dbutils.notebook.exit(json.dumps(dbutils.widgets.getAll()))
"""
SETS_A_VALUE = 'dbutils.jobs.taskValues.set(key="rows", value=42)\ndbutils.jobs.taskValues.set(key="ok", value=True)\n'




def test_references_in_notebook_parameters_and_job_parameter_defaults_resolve_when_the_task_runs(
        client, upload_notebook) -> None:
    producer = upload_notebook("/Shared/tests/sets_a_value", SETS_A_VALUE)
    consumer = upload_notebook("/Shared/tests/widgets_as_json", WIDGETS_AS_JSON)
    job_id = client.jobs.create(
        name="references",
        parameters=[jobs.JobParameterDefinition(name="env", default="dev"),
                    jobs.JobParameterDefinition(name="tag", default="job-{{job.id}}")],
        tasks=[
            jobs.Task(task_key="produce", notebook_task=jobs.NotebookTask(notebook_path=producer)),
            jobs.Task(task_key="consume", depends_on=[jobs.TaskDependency("produce")],
                      notebook_task=jobs.NotebookTask(notebook_path=consumer, base_parameters={
                          "env_ref": "env={{job.parameters.env}}",
                          "ids": "{{job.id}}/{{job.run_id}}/{{task.name}}/{{task.run_id}}",
                          "date": "{{job.start_time.iso_date}}",
                          "rows": "{{tasks.produce.values.rows}}",
                          "ok": "{{tasks.produce.values.ok}}",
                          "state": "{{tasks.produce.result_state}}",
                          "quoted": "{{job.parameters.`env`}}",
                          "not_ours": "{{foo.bar}} {{ds}} {{job.id}",
                      })),
        ],
    ).job_id
    run = client.jobs.run_now(job_id=job_id, job_parameters={"env": "prod"}).result(timeout=timedelta(minutes=5))

    consume = next(t for t in run.tasks if t.task_key == "consume")
    widgets = json.loads(client.jobs.get_run_output(consume.run_id).notebook_output.result)
    assert widgets["env_ref"] == "env=prod", "run-now's job_parameters override the default"
    assert widgets["ids"] == f"{job_id}/{run.run_id}/consume/{consume.run_id}"
    assert widgets["date"] == datetime.fromtimestamp(run.start_time / 1000, tz=UTC).strftime("%Y-%m-%d")
    assert widgets["rows"] == "42" and widgets["ok"] == "true", "task values as their JSON text"
    assert widgets["state"] == "success"
    assert widgets["quoted"] == "prod"
    assert widgets["not_ours"] == "{{foo.bar}} {{ds}} {{job.id}", "other namespaces and syntax errors stay literal"
    # Job parameters are pushed down to notebook widgets, with references in defaults resolved.
    assert widgets["env"] == "prod" and widgets["tag"] == f"job-{job_id}"
    assert {p.name: p.value for p in run.job_parameters}["env"] == "prod"

    resolved = client.jobs.get_run(run.run_id, include_resolved_values=True)
    parameters = next(t for t in resolved.tasks if t.task_key == "consume").resolved_values.notebook_task
    assert parameters.base_parameters["ids"] == widgets["ids"] and parameters.base_parameters["rows"] == "42"
    assert all(t.resolved_values is None for t in client.jobs.get_run(run.run_id).tasks), "only when asked"


def test_defaults_apply_when_run_now_gives_no_job_parameters(client) -> None:
    job_id = client.jobs.create(
        name="defaults", parameters=[jobs.JobParameterDefinition(name="threshold", default="10")],
        tasks=[jobs.Task(task_key="check", condition_task=jobs.ConditionTask(
            op=jobs.ConditionTaskOp.EQUAL_TO, left="{{job.parameters.threshold}}", right="10"))],
    ).job_id
    first = client.jobs.run_now(job_id=job_id).result(timeout=timedelta(minutes=2))
    assert first.tasks[0].condition_task.outcome == "true"
    resolved = client.jobs.get_run(first.run_id, include_resolved_values=True).tasks[0].resolved_values
    assert (resolved.condition_task.left, resolved.condition_task.right) == ("10", "10")
    overridden = client.jobs.run_now(job_id=job_id, job_parameters={"threshold": "11"}).result(
        timeout=timedelta(minutes=2))
    assert overridden.tasks[0].condition_task.outcome == "false"


@pytest.mark.parametrize("reference", ["{{job.naem}}", "{{job.start_time.century}}", "{{task.colour}}",
                                       "{{tasks.nope.values.k}}", "{{tasks.check.size}}"])
def test_an_invalid_reference_in_a_known_namespace_is_refused_when_the_job_is_saved(client, reference) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid dynamic value reference"):
        client.jobs.create(name="invalid", tasks=[jobs.Task(task_key="check", condition_task=jobs.ConditionTask(
            op=jobs.ConditionTaskOp.EQUAL_TO, left=reference, right="x"))])


def test_an_invalid_reference_in_a_job_parameter_default_is_refused(client) -> None:
    with pytest.raises(InvalidParameterValue, match=r"\{\{job.naem\}\}"):
        client.jobs.create(name="invalid-default",
                           parameters=[jobs.JobParameterDefinition(name="p", default="{{job.naem}}")],
                           tasks=[jobs.Task(task_key="c", condition_task=jobs.ConditionTask(
                               op=jobs.ConditionTaskOp.EQUAL_TO, left="1", right="1"))])


def test_a_reference_to_an_undefined_job_parameter_fails_the_task_naming_it(client) -> None:
    job_id = client.jobs.create(name="undefined-parameter", tasks=[jobs.Task(
        task_key="check", condition_task=jobs.ConditionTask(
            op=jobs.ConditionTaskOp.EQUAL_TO, left="{{job.parameters.missing}}", right="x"))]).job_id
    run = wait_terminal(client, client.jobs.run_now(job_id=job_id).run_id)
    assert run.tasks[0].state.result_state == jobs.RunResultState.FAILED
    assert "missing" in run.tasks[0].state.state_message
