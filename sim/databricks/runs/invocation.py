"""From a task's settings and the run's parameters to one `TaskInvocation` for a cluster.

Parameter precedence follows the workspace: a notebook's widgets are its `base_parameters`, then the
job parameters (defaults overridden by run-now's `job_parameters`), then run-now's `notebook_params`
— run-now wins. Script and wheel tasks take `python_params` / `python_named_params` from run-now in
place of their own `parameters`. Dynamic value references in the task's parameters and in the job
parameters are resolved here (`references.py`); one without a value fails the task.
"""

from __future__ import annotations

from typing import Any

from sim.compute.contract import TaskInvocation
from sim.databricks.runs.models import Run, TaskRun
from sim.databricks.runs.references import Scope, job_parameter_values, resolve
from sim.databricks.workspace.models import ResolvedSource


class SourceNotFound(Exception):
    """The task's notebook or script is neither imported nor under a mount; the message names it."""


def task_kind(task: dict[str, Any]) -> str:
    for key, kind in (("notebook_task", "notebook"), ("spark_python_task", "python_file"),
                      ("python_wheel_task", "python_wheel")):
        if key in task:
            return kind
    raise SourceNotFound(
        f"Task {task.get('task_key')} has no supported task type: use notebook_task, spark_python_task "
        "or python_wheel_task."
    )


def build_invocation(run: Run, task_run: TaskRun, source: ResolvedSource | None, *, scope: Scope,
                     task_values: dict[str, dict[str, Any]] | None = None) -> TaskInvocation:
    """`task_values`: the upstream tasks' values `dbutils.jobs.taskValues.get` may read. Raises
    `references.UnresolvedReference` for a reference without a value."""
    task = task_run.task
    kind = task_kind(task)
    overrides = run.overriding_parameters

    def sub(value: object) -> str:
        return resolve(value, scope)

    common: dict[str, Any] = {
        "run_id": task_run.run_id,
        "task_key": task_run.task_key,
        "attempt_number": task_run.attempt_number,
        "timeout_seconds": float(task.get("timeout_seconds") or 0),
        "sys_path": list(source.sys_path) if source else [],
        "source_path": source.path if source else None,
        "task_values": dict(task_values or {}),
    }
    if kind == "notebook":
        widgets = {k: sub(v) for k, v in (task["notebook_task"].get("base_parameters") or {}).items()}
        widgets.update(job_parameter_values(run, scope))
        widgets.update({k: str(v) for k, v in (overrides.get("notebook_params") or {}).items()})
        return TaskInvocation(kind="notebook", widgets=widgets, **common)
    if kind == "python_file":
        spec = task["spark_python_task"]
        params = overrides.get("python_params")
        argv = [sub(p) for p in (params if params is not None else spec.get("parameters") or [])]
        return TaskInvocation(kind="python_file", argv=argv, **common)
    spec = task["python_wheel_task"]
    named = overrides.get("python_named_params")
    if named is None:
        named = spec.get("named_parameters") or {}
    params = overrides.get("python_params")
    argv = [sub(p) for p in (params if params is not None else spec.get("parameters") or [])]
    return TaskInvocation(
        kind="python_wheel",
        argv=argv,
        named_parameters={k: sub(v) for k, v in named.items()},
        package_name=spec.get("package_name"),
        entry_point=spec.get("entry_point"),
        **common,
    )


def resolved_values(task: dict[str, Any], invocation: TaskInvocation) -> dict[str, dict[str, Any]]:
    """What runs/get's `resolved_values` reports for a cluster task: the parameters it ran with."""
    if invocation.kind == "notebook":
        base = (task["notebook_task"].get("base_parameters") or {}).keys()
        return {"notebook_task": {"base_parameters": {k: invocation.widgets[k] for k in base}}}
    if invocation.kind == "python_file":
        return {"spark_python_task": {"parameters": list(invocation.argv)}}
    return {"python_wheel_task": {"parameters": list(invocation.argv),
                                  "named_parameters": dict(invocation.named_parameters)}}


def source_path_of(task: dict[str, Any]) -> tuple[str | None, bool]:
    """The workspace path the task runs and whether it is a notebook (wheels have no source file)."""
    if "notebook_task" in task:
        return task["notebook_task"].get("notebook_path"), True
    if "spark_python_task" in task:
        return task["spark_python_task"].get("python_file"), False
    return None, False
