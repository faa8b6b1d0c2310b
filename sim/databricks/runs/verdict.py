"""The parent run's result from its tasks' results, and each task's `run_if` against its upstreams.

Failure reporting (`failure_style`):
- "workspace" (default, what real workspaces report today): a failed task ends TERMINATED/FAILED and
  the parent run ends INTERNAL_ERROR/FAILED "Task <key> failed with message: ...", status TERMINATED
  with RUN_EXECUTION_ERROR — databricks-sdk's `.result()` raises OperationFailed on it.
- "terminated": the parent ends TERMINATED/FAILED, so `.result()` returns and the caller inspects it.
"""

from __future__ import annotations

import copy
from typing import Literal

from sim.databricks.runs.attempts import CANCELED_MESSAGE
from sim.databricks.runs.models import CANCELED_RESULTS, FAILED_RESULTS, Run, RunState
from sim.databricks.runs.timeouts import run_timed_out_state

FailureStyle = Literal["workspace", "terminated"]


def run_verdict(run: Run, *, timed_out: bool, failure_style: FailureStyle) -> RunState:
    """The run's end state once every task has ended or been skipped."""
    if timed_out:
        return run_timed_out_state(run)
    if run.cancel_requested:
        return RunState("TERMINATED", "CANCELED", CANCELED_MESSAGE, True, "USER_CANCELED", "SUCCESS")
    latest = run.latest_attempts()
    failed = [t for t in latest.values()
              if t.state.result_state in FAILED_RESULTS and t.state.result_state != "UPSTREAM_FAILED"]
    upstream = {d["task_key"] for s in run.tasks_spec for d in s.get("depends_on") or []}
    leaves = [t for k, t in latest.items() if k not in upstream]
    leaves_ok = all(t.state.result_state in ("SUCCESS", "EXCLUDED") for t in leaves)
    if not failed and leaves_ok:
        return RunState("TERMINATED", "SUCCESS", "", False, "SUCCESS", "SUCCESS")
    if failed and leaves_ok:
        return RunState("TERMINATED", "SUCCESS_WITH_FAILURES", "", False, "SUCCESS_WITH_FAILURES", "SUCCESS")
    not_ok = [t for t in leaves if t.state.result_state not in ("SUCCESS", "EXCLUDED")]
    culprit = failed[0] if failed else (not_ok or list(latest.values()))[0]
    message = f"Task {culprit.task_key} failed with message: {culprit.state.state_message.rstrip('.')}."
    life = "INTERNAL_ERROR" if failure_style == "workspace" else "TERMINATED"
    return RunState(life, "FAILED", message, False, "RUN_EXECUTION_ERROR", "CLIENT_ERROR")


def close_repair(run: Run) -> None:
    """The open repair's history item takes the run's verdict and end time."""
    if run.repairs and run.repairs[-1].state is None:
        run.repairs[-1].state = copy.deepcopy(run.state)
        run.repairs[-1].end_time = run.end_time


def run_if(condition: str, upstream: list[str]) -> str | None:
    """None when the task runs; otherwise the result state it is skipped with.

    Excluded dependencies count as successful, and a task whose dependencies are all excluded is
    excluded whatever its `run_if` (docs.databricks.com/jobs/conditional-tasks)."""
    if not upstream:
        return None
    if all(r == "EXCLUDED" for r in upstream):
        return "EXCLUDED"
    ok = [r in ("SUCCESS", "EXCLUDED") for r in upstream]
    failed = [r in FAILED_RESULTS for r in upstream]
    canceled = [r in CANCELED_RESULTS for r in upstream]
    runs = {
        "ALL_SUCCESS": all(ok),
        "AT_LEAST_ONE_SUCCESS": any(ok),
        "NONE_FAILED": not any(failed),
        "ALL_DONE": True,
        "AT_LEAST_ONE_FAILED": any(failed),
        "ALL_FAILED": all(failed),
    }.get(condition, all(ok))
    if runs:
        return None
    if any(canceled) and not any(failed):
        return "UPSTREAM_CANCELED"
    return "UPSTREAM_FAILED" if any(failed) else "EXCLUDED"
