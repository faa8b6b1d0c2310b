"""runs/repair: which tasks of a finished run run again, and the checks a workspace makes first.

Request (databricks-sdk 0.156 `JobsAPI.repair_run`, docs.databricks.com/api/jobs/v2/repair):
`run_id, rerun_tasks[], rerun_all_failed_tasks, rerun_dependent_tasks, latest_repair_id` plus the
run-now parameter slots. Only one of `rerun_tasks` / `rerun_all_failed_tasks`; `rerun_dependent_tasks`
adds every task downstream of those. Re-run tasks "use the current job and task settings", so a job
run's re-run tasks take their settings from the job as it is now (Airflow's DatabricksRunNowOperator
updates the job before it repairs). Messages marked (guess) were not confirmed against a workspace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sim.databricks.errors import InvalidParameterValue, InvalidState
from sim.databricks.runs.models import Run

# Results a task may keep through "rerun_all_failed_tasks" (anything else did not succeed).
KEPT_RESULTS = ("SUCCESS", "EXCLUDED")
# Confirmed wording: databricks/databricks-sdk-py discussion #158 quotes the workspace's answer.
LATEST_REPAIR_ID_MISSING = "The latest repair ID needs to be provided in order to create a new repair"


def check_repairable(run: Run, run_id: int, latest_repair_id: int | None) -> None:
    """A run in progress cannot be repaired, and repairs are sequential (`latest_repair_id`)."""
    if run.run_id != run_id:
        # (guess) repair addresses the job run, never one of its task runs.
        raise InvalidParameterValue(f"Run {run_id} is a task run; repair its job run {run.run_id} instead.")
    if not run.state.terminal:
        # (guess) docs: "The run must not be in progress."
        raise InvalidState(f"Run {run_id} is in progress and cannot be repaired until it has finished.")
    latest = run.latest_repair_id
    if latest is not None and latest_repair_id is None:
        raise InvalidParameterValue(LATEST_REPAIR_ID_MISSING)
    if latest_repair_id is not None and latest_repair_id != latest:
        # (guess) a stale id: another repair happened since the caller looked.
        raise InvalidParameterValue(
            f"The latest repair ID {latest_repair_id} does not match the latest repair of run {run_id} "
            f"({latest if latest is not None else 'none'})."
        )


def select_tasks(run: Run, *, rerun_tasks: list[str] | None, rerun_all_failed_tasks: bool,
                 rerun_dependent_tasks: bool) -> list[str]:
    """The task keys to run again, in the run's task order."""
    if rerun_tasks and rerun_all_failed_tasks:
        raise InvalidParameterValue("Only one of rerun_tasks or rerun_all_failed_tasks can be used.")
    order = [t["task_key"] for t in run.tasks_spec]
    if rerun_all_failed_tasks:
        latest = run.latest_attempts()
        chosen = {k for k in order if k not in latest or latest[k].state.result_state not in KEPT_RESULTS}
        if not chosen:
            raise InvalidParameterValue(f"Run {run.run_id} has no failed tasks to repair.")  # (guess)
    elif rerun_tasks:
        if len(set(rerun_tasks)) != len(rerun_tasks):
            # Seen on a workspace (apache/airflow PR #69998 review: a retried task's key listed twice).
            raise InvalidParameterValue("rerun_tasks cannot contain duplicate task keys.")
        unknown = sorted(set(rerun_tasks) - set(order))
        if unknown:
            raise InvalidParameterValue(
                f"Task(s) {', '.join(unknown)} in 'rerun_tasks' do not exist in run {run.run_id}.")  # (guess)
        chosen = set(rerun_tasks)
    else:
        raise InvalidParameterValue(
            "Either rerun_tasks or rerun_all_failed_tasks must be specified to repair a run.")  # (guess)
    if rerun_dependent_tasks:
        chosen |= downstream_of(chosen, run.tasks_spec)
    return [k for k in order if k in chosen]


def downstream_of(keys: Iterable[str], tasks: list[dict[str, Any]]) -> set[str]:
    """Every task that depends, directly or through others, on one of `keys`."""
    children: dict[str, list[str]] = {}
    for task in tasks:
        for dep in task.get("depends_on") or []:
            children.setdefault(dep["task_key"], []).append(task["task_key"])
    found: set[str] = set()
    stack = list(keys)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def current_specs(run: Run, keys: list[str], job_tasks: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """The settings each re-run task runs with: the job's current task for a job run, else the run's own."""
    if job_tasks is None:
        return {t["task_key"]: t for t in run.tasks_spec if t["task_key"] in keys}
    by_key = {t["task_key"]: t for t in job_tasks}
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise InvalidParameterValue(  # (guess) the task was removed from the job since the run
            f"Task(s) {', '.join(missing)} no longer exist in job {run.job_id} and cannot be repaired.")
    return {k: by_key[k] for k in keys}
