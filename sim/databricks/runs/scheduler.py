"""Executes runs: life-cycle states, task dependencies and `run_if`, retries, timeouts, cancel.

One thread per run walks the task graph; one thread per running task drives its attempts on a cluster
through the `ClusterPool` seam (`compute/contract.py`). Every state change is saved (and so visible
to runs/get) the moment it happens. Time comes from `sim.clock` only.

A repair (runs/repair) walks the same graph with only the chosen tasks pending: the others keep their
latest result (and task values) as already-finished upstreams.

Failure reporting (`failure_style`):
- "workspace" (default, what real workspaces report today): a failed task ends TERMINATED/FAILED and
  the parent run ends INTERNAL_ERROR/FAILED "Task <key> failed with message: ...", status TERMINATED
  with RUN_EXECUTION_ERROR — databricks-sdk's `.result()` raises OperationFailed on it.
- "terminated": the parent ends TERMINATED/FAILED, so `.result()` returns and the caller inspects it.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sim import clock
from sim.compute.contract import Cluster, ClusterPool, TaskResult
from sim.databricks.faults.models import FaultList
from sim.databricks.runs.backend import RunsBackend
from sim.databricks.runs.invocation import SourceNotFound, build_invocation, source_path_of
from sim.databricks.runs.models import CANCELED_RESULTS, FAILED_RESULTS, Run, RunState, TaskOutput, TaskRun
from sim.databricks.workspace.models import WorkspaceBackend

log = logging.getLogger(__name__)
FailureStyle = Literal["workspace", "terminated"]
WORKLOAD_FAILED = "Workload failed, see run output for details"
CANCELED_MESSAGE = "Run cancelled."
POLL_SECONDS = 0.05
CANCEL_GRACE_SECONDS = 30.0


class _Stopping(Exception):
    """The server is shutting down: abandon the run without writing a terminal state."""


@dataclass
class _RunContext:
    run: Run
    deadline: float | None
    stop: threading.Event = field(default_factory=clock.ClockEvent)  # cancel or timeout: stop every task
    wakeup: threading.Event = field(default_factory=clock.ClockEvent)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clusters: dict[tuple[str, str], Cluster] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    task_values: dict[str, dict[str, Any]] = field(default_factory=dict)  # dbutils.jobs.taskValues
    timed_out: bool = False


class Scheduler:
    def __init__(
        self,
        runs: RunsBackend,
        *,
        workspace: WorkspaceBackend,
        faults: FaultList,
        compute: Callable[[], ClusterPool],
        job_settings: Callable[[int], dict[str, Any] | None],
        failure_style: FailureStyle = "workspace",
    ) -> None:
        if failure_style not in ("workspace", "terminated"):
            raise ValueError(f"failure_style must be 'workspace' or 'terminated', got {failure_style!r}")
        self._runs = runs
        self._workspace = workspace
        self._faults = faults
        self._compute = compute
        self._job_settings = job_settings
        self._failure_style = failure_style
        self._stopping = clock.ClockEvent()
        self._threads: list[threading.Thread] = []
        self._contexts: list[_RunContext] = []
        runs.start = self.start
        runs.start_repair = self.start_repair

    def start(self, run: Run) -> None:
        # An actor from the moment run-now returns: a run between two of its steps (queue, cluster, task
        # hand-offs) is work, so the virtual clock does not skip a caller's Wait past it.
        thread = clock.ActorThread(target=self._execute, args=(run,), name=f"run-{run.run_id}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def start_repair(self, run: Run, keys: list[str]) -> None:
        """Re-run `keys` of a finished run (the backend has already opened the repair record)."""
        thread = clock.ActorThread(target=self._execute, args=(run, keys), name=f"repair-{run.run_id}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop executing: running tasks are cancelled on their clusters; their runs stay non-terminal in
        the store, so the next start marks them INTERNAL_ERROR (the restart semantics)."""
        self._stopping.set()
        for ctx in list(self._contexts):
            ctx.stop.set()
            ctx.wakeup.set()
        for thread in self._threads:
            thread.join(timeout)

    # --- one run ---------------------------------------------------------------------------------
    def _execute(self, run: Run, rerun: list[str] | None = None) -> None:
        try:
            self._wait_in_queue(run)
            ctx = _RunContext(run, clock.now() + run.timeout_seconds if run.timeout_seconds else None)
            self._contexts.append(ctx)
            self._set(run, run.state, "PENDING", "")
            try:
                with clock.get().alarm(ctx.deadline):  # timeout_seconds: a virtual clock stops there
                    self._run_graph(ctx, rerun)
            finally:
                if not self._stopping.is_set():
                    self._set(run, run.state, "TERMINATING", "")
                for cluster in ctx.clusters.values():
                    try:
                        cluster.terminate()
                    except Exception:  # a cluster that fails to stop must not hide the run's result
                        log.exception("terminating job cluster %s failed", cluster.cluster_id)
            self._finish(ctx)
        except _Stopping:
            return
        except Exception as e:  # the scheduler's own bug: report it on the run rather than hang it
            log.exception("run %s failed inside the scheduler", run.run_id)
            if not self._stopping.is_set():
                run.state = RunState("INTERNAL_ERROR", "FAILED", f"Internal error in the fake workspace: {e}",
                                     termination_code="INTERNAL_ERROR", termination_type="INTERNAL_ERROR")
                run.end_time = clock.now_ms()
                _close_repair(run)
                self._runs.save(run)

    def _wait_in_queue(self, run: Run) -> None:
        while run.state.life_cycle_state == "QUEUED":
            self._check_stopping()
            if run.cancel_requested:
                return
            settings = self._job_settings(run.job_id) if run.job_id else None
            limit = int((settings or {}).get("max_concurrent_runs") or 1)
            ahead = [r for r in self._runs.active_runs(run.job_id)
                     if r.run_id != run.run_id and r.state.life_cycle_state != "QUEUED"]
            if len(ahead) < limit:
                return
            clock.poll(self._stopping, POLL_SECONDS * 4)  # polling, not a timer: time skips past it

    def _run_graph(self, ctx: _RunContext, rerun: list[str] | None = None) -> None:
        run = ctx.run
        specs = {t["task_key"]: t for t in run.tasks_spec}
        repair_id = None
        if rerun is not None:  # a repair: the other tasks are finished upstreams with their last result
            repair_id = run.latest_repair_id
            latest = run.latest_attempts()
            for key in specs.keys() - set(rerun):
                if key in latest:
                    ctx.results[key] = latest[key].state.result_state or "FAILED"
                    ctx.task_values[key] = dict(latest[key].task_values)
                else:  # never ran (a run skipped before it started): counts as not run
                    ctx.results[key] = "UPSTREAM_CANCELED"
            specs = {k: specs[k] for k in rerun}
        first: dict[str, TaskRun] = {}
        for key, spec in specs.items():
            waiting = "BLOCKED" if spec.get("depends_on") else "PENDING"
            first[key] = TaskRun(self._runs.new_task_run_id(), key, 0, spec, RunState(waiting), repair_id=repair_id)
            self._runs.add_task_run(run, first[key])
        self._set(run, run.state, "RUNNING", "")
        pending = dict(specs)
        workers: dict[str, threading.Thread] = {}
        while pending or any(t.is_alive() for t in workers.values()):
            self._check_stopping()
            self._check_cancel_and_deadline(ctx)
            for key, spec in list(pending.items()):
                deps = [d["task_key"] for d in spec.get("depends_on") or []]
                with ctx.lock:
                    upstream = [ctx.results[d] for d in deps if d in ctx.results]
                if len(upstream) < len(deps):
                    continue
                del pending[key]
                verdict = _run_if(spec.get("run_if") or "ALL_SUCCESS", upstream)
                if verdict is None and not ctx.stop.is_set():
                    worker = clock.ActorThread(target=self._run_task, args=(ctx, first[key]),
                                              name=f"run-{run.run_id}-{key}", daemon=True)
                    workers[key] = worker
                    worker.start()
                else:
                    self._skip(ctx, first[key], verdict or "UPSTREAM_CANCELED")
            # Polling for cancel and task ends is not a timer (a virtual clock would crawl 50 ms at a time);
            # the run's deadline is one, held by `_execute`.
            clock.poll(ctx.wakeup, POLL_SECONDS)
            ctx.wakeup.clear()

    def _check_cancel_and_deadline(self, ctx: _RunContext) -> None:
        if ctx.stop.is_set():
            return
        if ctx.run.cancel_requested:
            ctx.stop.set()
        elif ctx.deadline is not None and clock.now() >= ctx.deadline:
            ctx.timed_out = True
            ctx.stop.set()

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise _Stopping

    # --- one task --------------------------------------------------------------------------------
    def _run_task(self, ctx: _RunContext, task_run: TaskRun) -> None:
        spec = task_run.task
        max_retries = int(spec.get("max_retries") or 0)
        interval = int(spec.get("min_retry_interval_millis") or 0) / 1000
        try:
            while True:
                self._attempt(ctx, task_run)
                result = task_run.state.result_state
                retry = result == "FAILED" or (result == "TIMEDOUT" and bool(spec.get("retry_on_timeout")))
                exhausted = max_retries != -1 and task_run.attempt_number >= max_retries
                if not retry or exhausted or ctx.stop.is_set():
                    break
                task_run = TaskRun(self._runs.new_task_run_id(), task_run.task_key, task_run.attempt_number + 1,
                                   spec, RunState("WAITING_FOR_RETRY"), repair_id=task_run.repair_id)
                self._runs.add_task_run(ctx.run, task_run)
                if interval:
                    clock.get().wait(ctx.stop, interval)
                    self._check_stopping()
            with ctx.lock:
                ctx.results[task_run.task_key] = task_run.state.result_state or "FAILED"
        except _Stopping:
            return
        finally:
            ctx.wakeup.set()

    def _attempt(self, ctx: _RunContext, task_run: TaskRun) -> None:
        run = ctx.run
        task_run.start_time = clock.now_ms()
        self._set(run, task_run.state, "PENDING", "")
        fault = self._faults.take_task(job_id=run.job_id, job_name=run.run_name, task_key=task_run.task_key,
                                       attempt=task_run.attempt_number)
        if fault is not None and fault.effect == "SLOW_START":
            clock.get().wait(ctx.stop, fault.delay_seconds)
            self._check_stopping()
        elif fault is not None:
            message = fault.message or f"Injected fault: {fault.effect}"
            error = message if fault.effect != "TIMEDOUT" else None
            outcome = fault.effect if fault.effect != "FAILED" else "FAILED"
            self._end_task(ctx, task_run, TaskResult(outcome, error=error), message_override=message)
            return
        if ctx.stop.is_set():
            self._end_task(ctx, task_run, TaskResult("CANCELED"))
            return
        try:
            path, notebook = source_path_of(task_run.task)
            source = None
            if path is not None:
                source = self._workspace.resolve_source(path, notebook=notebook)
                if source is None:
                    what = "notebook" if notebook else "file"
                    raise SourceNotFound(
                        f'Unable to access the {what} "{path}". Either it does not exist, or the identity '
                        "used to run this job, stepbricks@localhost, lacks the required permissions."
                    )
            with ctx.lock:
                upstream_values = {d["task_key"]: ctx.task_values.get(d["task_key"], {})
                                   for d in task_run.task.get("depends_on") or []}
            invocation = build_invocation(run, task_run, source, task_values=upstream_values)
            cluster = self._cluster_for(ctx, task_run.task)
        except Exception as e:
            message = str(e) if isinstance(e, SourceNotFound | ClusterNotFound) else f"{type(e).__name__}: {e}"
            self._end_task(ctx, task_run, TaskResult("INTERNAL_ERROR", error=message), message_override=message)
            return
        task_run.cluster_id = cluster.cluster_id
        self._set(run, task_run.state, "RUNNING", "")
        handle = cluster.run(invocation)
        self._faults.kill_worker_mid_task(cluster, handle, job_name=run.run_name, task_key=task_run.task_key,
                                          run_id=run.run_id, job_id=run.job_id)
        result: TaskResult | None = None
        with clock.busy():  # real work in a cluster process: the virtual clock must not skip past it
            while result is None:
                result = handle.wait(POLL_SECONDS * 4)
                if result is None and (ctx.stop.is_set() or self._stopping.is_set()):
                    handle.cancel()
                    result = handle.wait(CANCEL_GRACE_SECONDS) or TaskResult("CANCELED")
                    self._check_stopping()
        result_at = clock.now_ms()
        self._set(run, task_run.state, "TERMINATING", "")
        if handle.running_at_ms is not None:  # the code ran: what came before it was the cluster's setup
            task_run.setup_duration = max(0, handle.running_at_ms - task_run.start_time)
        self._end_task(ctx, task_run, result, result_at=result_at)

    def _cluster_for(self, ctx: _RunContext, spec: dict[str, Any]) -> Cluster:
        pool = self._compute()
        if spec.get("existing_cluster_id"):
            try:
                return pool.get(spec["existing_cluster_id"])
            except KeyError:
                raise ClusterNotFound(f"Cluster {spec['existing_cluster_id']} does not exist") from None
        if "new_cluster" in spec:
            key, cluster_spec = ("task", spec["task_key"]), spec["new_cluster"]
        elif spec.get("job_cluster_key"):
            jck = spec["job_cluster_key"]
            key = ("job_cluster", jck)
            cluster_spec = next((c.get("new_cluster", {}) for c in ctx.run.job_clusters
                                 if c.get("job_cluster_key") == jck), {})
        else:
            return pool.get(pool.default_cluster_id())
        with ctx.lock:
            if key not in ctx.clusters:
                ctx.clusters[key] = pool.ephemeral(cluster_spec)
            return ctx.clusters[key]

    def _end_task(self, ctx: _RunContext, task_run: TaskRun, result: TaskResult,
                  message_override: str | None = None, result_at: int | None = None) -> None:
        outcome = result.outcome
        if outcome == "CANCELED" and ctx.timed_out:
            outcome = "TIMEDOUT"
        timeout = task_run.task.get("timeout_seconds") or ctx.run.timeout_seconds
        states = {
            "SUCCESS": ("TERMINATED", "SUCCESS", "", "SUCCESS", "SUCCESS"),
            "FAILED": ("TERMINATED", "FAILED", WORKLOAD_FAILED, "RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
            "CANCELED": ("TERMINATED", "CANCELED", CANCELED_MESSAGE, "USER_CANCELED", "SUCCESS"),
            "TIMEDOUT": ("TERMINATED", "TIMEDOUT", f"Task timed out after {timeout} seconds.",
                         "RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
            "INTERNAL_ERROR": ("INTERNAL_ERROR", "FAILED", result.error or "Internal error.", "INTERNAL_ERROR",
                               "INTERNAL_ERROR"),
        }
        life, res, message, code, kind = states[outcome]
        # Output and end time first: a concurrent runs/get-output that sees the terminal state must also
        # see the result it goes with.
        task_run.output = TaskOutput(result.notebook_result, result.error, result.error_trace, result.logs)
        task_run.spark_session_reused = result.spark_session_reused
        task_run.end_time = clock.now_ms()
        if result_at is not None:
            task_run.cleanup_duration = max(0, task_run.end_time - result_at)
        task_run.state = RunState(life, res, message_override or message,
                                  user_cancelled_or_timedout=outcome in ("CANCELED", "TIMEDOUT"),
                                  termination_code=code, termination_type=kind)
        task_run.task_values = dict(result.task_values)
        if result.task_values:
            with ctx.lock:
                ctx.task_values[task_run.task_key] = dict(result.task_values)
        self._runs.save(ctx.run)

    def _skip(self, ctx: _RunContext, task_run: TaskRun, result_state: str) -> None:
        messages = {"UPSTREAM_FAILED": "Upstream task(s) failed.",
                    "UPSTREAM_CANCELED": "Upstream task(s) were canceled.",
                    "EXCLUDED": "The task's run_if condition was not met."}
        task_run.state = RunState("SKIPPED", result_state, messages[result_state],
                                  termination_code="SKIPPED", termination_type="SUCCESS")
        task_run.start_time = task_run.end_time = clock.now_ms()
        with ctx.lock:
            ctx.results[task_run.task_key] = result_state
        self._runs.save(ctx.run)

    # --- the parent's verdict --------------------------------------------------------------------
    def _finish(self, ctx: _RunContext) -> None:
        run = ctx.run
        latest = run.latest_attempts()
        if ctx.timed_out:
            state = RunState("TERMINATED", "TIMEDOUT", f"Run timed out after {run.timeout_seconds} seconds.",
                             True, "RUN_EXECUTION_ERROR", "CLIENT_ERROR")
        elif run.cancel_requested:
            state = RunState("TERMINATED", "CANCELED", CANCELED_MESSAGE, True, "USER_CANCELED", "SUCCESS")
        else:
            failed = [t for t in latest.values()
                      if t.state.result_state in FAILED_RESULTS and t.state.result_state != "UPSTREAM_FAILED"]
            upstream = {d["task_key"] for s in run.tasks_spec for d in s.get("depends_on") or []}
            leaves = [t for k, t in latest.items() if k not in upstream]
            leaves_ok = all(t.state.result_state in ("SUCCESS", "EXCLUDED") for t in leaves)
            if not failed and leaves_ok:
                state = RunState("TERMINATED", "SUCCESS", "", False, "SUCCESS", "SUCCESS")
            elif failed and leaves_ok:
                state = RunState("TERMINATED", "SUCCESS_WITH_FAILURES", "", False, "SUCCESS_WITH_FAILURES",
                                 "SUCCESS")
            else:
                not_ok = [t for t in leaves if t.state.result_state not in ("SUCCESS", "EXCLUDED")]
                culprit = failed[0] if failed else (not_ok or list(latest.values()))[0]
                message = f"Task {culprit.task_key} failed with message: {culprit.state.state_message.rstrip('.')}."
                life = "INTERNAL_ERROR" if self._failure_style == "workspace" else "TERMINATED"
                state = RunState(life, "FAILED", message, False, "RUN_EXECUTION_ERROR", "CLIENT_ERROR")
        run.state = state
        run.end_time = clock.now_ms()
        _close_repair(run)
        self._runs.save(run)

    def _set(self, run: Run, state: RunState, life_cycle_state: str, message: str) -> None:
        state.life_cycle_state = life_cycle_state
        state.state_message = message
        self._runs.save(run)


class ClusterNotFound(Exception):
    pass


def _close_repair(run: Run) -> None:
    """The open repair's history item takes the run's verdict and end time."""
    if run.repairs and run.repairs[-1].state is None:
        run.repairs[-1].state = copy.deepcopy(run.state)
        run.repairs[-1].end_time = run.end_time


def _run_if(condition: str, upstream: list[str]) -> str | None:
    """None when the task runs; otherwise the result state it is skipped with."""
    if not upstream:
        return None
    ok = [r == "SUCCESS" for r in upstream]
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
