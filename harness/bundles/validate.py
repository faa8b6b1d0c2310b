"""Checks a loaded bundle before anything reaches a workspace; every problem names file and key.

Fields are checked against databricks-sdk's own `JobSettings` / `Task` dataclasses
(`databricks/sdk/service/jobs.py`), so a typo such as `taks` is caught as the CLI's
"unknown field" warning would flag it, but here it fails the validation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from harness.bundles.errors import BundleError
from harness.bundles.model import Bundle, JobResource

_TASK_TYPES = ("notebook_task", "spark_python_task", "python_wheel_task", "spark_jar_task", "spark_submit_task",
               "sql_task", "dbt_task", "run_job_task", "condition_task", "for_each_task", "pipeline_task",
               "clean_rooms_notebook_task", "dashboard_task", "power_bi_task", "gen_ai_compute_task")  # fmt: skip


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)

    def add(self, job: JobResource, key: str, problem: str) -> None:
        self.problems.append(f"{job.declared_in}: resources.jobs.{job.key}{key}: {problem}")


def validate(bundle: Bundle) -> None:
    """Raise one `BundleError` listing every problem found (one per line)."""
    from databricks.sdk.service.jobs import JobSettings, Task

    job_fields = {f.name for f in dataclasses.fields(JobSettings)}
    task_fields = {f.name for f in dataclasses.fields(Task)}
    report = Report()
    for job in bundle.jobs.values():
        _check_job(job, bundle, job_fields, task_fields, report)
    _check_reference_cycles(bundle, report)
    if report.problems:
        raise BundleError("bundle validation failed:\n" + "\n".join(f"  - {p}" for p in report.problems))


def _check_job(job: JobResource, bundle: Bundle, job_fields: set[str], task_fields: set[str], report: Report) -> None:
    s = job.settings
    for name in sorted(set(s) - job_fields):
        report.add(job, f".{name}", "unknown field (not a field of JobSettings)")
    tasks = s.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        report.add(job, ".tasks", "a job needs at least one task")
        tasks = []
    clusters = {c.get("job_cluster_key") for c in s.get("job_clusters") or [] if isinstance(c, dict)}
    keys = [t.get("task_key") for t in tasks if isinstance(t, dict)]
    for i, task in enumerate(tasks):
        where = f".tasks[{i}]"
        if not isinstance(task, dict):
            report.add(job, where, f"expected a task (a mapping), got {task!r}")
            continue
        if not task.get("task_key"):
            report.add(job, f"{where}.task_key", "is required")
        elif keys.count(task["task_key"]) > 1:
            report.add(job, f"{where}.task_key", f"'{task['task_key']}' is used by more than one task")
        for name in sorted(set(task) - task_fields):
            report.add(job, f"{where}.{name}", "unknown field (not a field of Task)")
        kinds = [k for k in _TASK_TYPES if k in task]
        if len(kinds) != 1:
            report.add(job, where, f"needs exactly one task type ({', '.join(_TASK_TYPES[:3])}, …), found {kinds or 'none'}")
        for j, dep in enumerate(task.get("depends_on") or []):
            if dep.get("task_key") not in keys:
                report.add(job, f"{where}.depends_on[{j}].task_key",
                           f"task '{dep.get('task_key')}' does not exist in this job (tasks: {', '.join(map(str, keys))})")
        if task.get("job_cluster_key") and task["job_cluster_key"] not in clusters:
            report.add(job, f"{where}.job_cluster_key",
                       f"'{task['job_cluster_key']}' is not in job_clusters ({', '.join(sorted(map(str, clusters))) or 'none'})")
    names = [p.get("name") for p in s.get("parameters") or [] if isinstance(p, dict)]
    for name in {n for n in names if names.count(n) > 1}:
        report.add(job, ".parameters", f"parameter '{name}' is declared more than once")
    for ref in sorted(job.job_refs()):
        if ref not in bundle.jobs:
            report.add(job, "", f"reference does not exist: ${{resources.jobs.{ref}.id}} (jobs: {', '.join(bundle.jobs)})")


def _check_reference_cycles(bundle: Bundle, report: Report) -> None:
    try:
        deploy_order(bundle)
    except BundleError as exc:
        report.problems.append(str(exc))


def deploy_order(bundle: Bundle) -> list[str]:
    """Job keys so that a job comes after every job whose id it refers to."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(key: str, path: list[str]) -> None:
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            cycle = " -> ".join([*path[path.index(key):], key])
            raise BundleError(f"{bundle.jobs[key].declared_in}: resources.jobs.{key}: jobs refer to each other's ids in a cycle: {cycle}")
        state[key] = "visiting"
        for ref in sorted(bundle.jobs[key].job_refs()):
            if ref in bundle.jobs:
                visit(ref, [*path, key])
        state[key] = "done"
        order.append(key)

    for key in bundle.jobs:
        visit(key, [])
    return order
