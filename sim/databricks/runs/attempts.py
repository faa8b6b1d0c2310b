"""The attempt lifecycle: one attempt of one task, PENDING → RUNNING → TERMINATING → its end state.

An attempt first consults the fault list and the fault plan (a fault may end it or delay its start),
resolves the task's source and parameters, gets its cluster (the workspace's default, an existing one,
or the run's job/task cluster, created once per run), runs on it through the `ClusterPool` seam
(`compute/contract.py`) and writes the end state, output and task values. Every state change is saved,
and so visible to runs/get, the moment it happens.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from sim import clock
from sim.compute.contract import Cluster, ClusterPool, TaskResult
from sim.databricks.faults.models import FaultList
from sim.databricks.runs import conditions
from sim.databricks.runs.context import RunContext, Stopping
from sim.databricks.runs.creation import RunFactory
from sim.databricks.runs.for_each import ForEachError, ForEachRunner, parse_inputs
from sim.databricks.runs.invocation import SourceNotFound, build_invocation, resolved_values, source_path_of
from sim.databricks.runs.models import Run, RunState, TaskOutput, TaskRun
from sim.databricks.runs.references import Scope, UnresolvedReference
from sim.databricks.runs.registry import RunRegistry
from sim.databricks.runs.run_job import RunJobRunner
from sim.databricks.runs.timeouts import stopped_outcome, task_timeout_message
from sim.databricks.workspace.models import WorkspaceBackend

log = logging.getLogger(__name__)
WORKLOAD_FAILED = "Workload failed, see run output for details"
CANCELED_MESSAGE = "Run cancelled."
SKIP_MESSAGES = {"UPSTREAM_FAILED": "Upstream task(s) failed.",
                 "UPSTREAM_CANCELED": "Upstream task(s) were canceled.",
                 "EXCLUDED": "The task's run_if condition was not met."}


class ClusterNotFound(Exception):
    pass


class AttemptRunner:
    """Runs task attempts of any run; built once per workspace with what an attempt needs."""

    def __init__(self, registry: RunRegistry, *, workspace: WorkspaceBackend, faults: FaultList,
                 compute: Callable[[], ClusterPool], stopping: threading.Event, factory: RunFactory,
                 start_run: Callable[[Run], None]) -> None:
        """`factory` and `start_run` create and start the child run of a Run Job task."""
        self._registry = registry
        self._workspace = workspace
        self._faults = faults
        self._compute = compute
        self._stopping = stopping  # the server is shutting down
        # A For each task's iterations go through this same lifecycle.
        self._for_each = ForEachRunner(registry, attempt=self.run, stopping=stopping)
        self._run_job = RunJobRunner(registry, factory=factory, start=start_run, stopping=stopping)

    def run(self, ctx: RunContext, task_run: TaskRun) -> None:
        """Run one attempt to its end state (raises `Stopping` when the server shuts down meanwhile)."""
        run = ctx.run
        task_run.start_time = clock.now_ms()
        set_state(self._registry, run, task_run.state, "PENDING")
        fault = self._faults.take_task(job_id=run.job_id, job_name=run.run_name, task_key=task_run.task_key,
                                       attempt=task_run.attempt_number)
        if fault is not None and fault.effect == "SLOW_START":
            clock.get().wait(ctx.stop, fault.delay_seconds)
            self._check_stopping()
        elif fault is not None:
            message = fault.message or f"Injected fault: {fault.effect}"
            error = message if fault.effect != "TIMEDOUT" else None
            outcome = fault.effect if fault.effect != "FAILED" else "FAILED"
            self.end(ctx, task_run, TaskResult(outcome, error=error), message_override=message)
            return
        if ctx.stop.is_set():
            self.end(ctx, task_run, TaskResult("CANCELED"))
            return
        if "condition_task" in task_run.task:
            self._condition(ctx, task_run)
            return
        if "for_each_task" in task_run.task:
            self._for_each_task(ctx, task_run)
            return
        if "run_job_task" in task_run.task:
            self._run_job_task(ctx, task_run)
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
            invocation = build_invocation(run, task_run, source, scope=self.scope(ctx, task_run),
                                          task_values=upstream_values)
            cluster = self._cluster_for(ctx, task_run.task)
        except Exception as e:
            known = SourceNotFound | ClusterNotFound | UnresolvedReference
            message = str(e) if isinstance(e, known) else f"{type(e).__name__}: {e}"
            self.end(ctx, task_run, TaskResult("INTERNAL_ERROR", error=message), message_override=message)
            return
        task_run.cluster_id = cluster.cluster_id
        task_run.resolved_values = resolved_values(task_run.task, invocation)
        set_state(self._registry, run, task_run.state, "RUNNING")
        handle = cluster.run(invocation)
        self._faults.kill_worker_mid_task(cluster, handle, job_name=run.run_name, task_key=task_run.task_key,
                                          run_id=run.run_id, job_id=run.job_id)
        # Real work in a cluster process: the virtual clock must not skip past it. A cancel, the run's
        # timeout or a shutdown cancels the handle (`RunContext.halt`), and the cluster ends a cancelled
        # attempt within its grace, so this waits for the result alone.
        with clock.busy(), ctx.attempt_running(handle):
            result = handle.wait(None) or TaskResult("CANCELED")
        self._check_stopping()
        result_at = clock.now_ms()
        set_state(self._registry, run, task_run.state, "TERMINATING")
        if handle.running_at_ms is not None:  # the code ran: what came before it was the cluster's setup
            task_run.setup_duration = max(0, handle.running_at_ms - task_run.start_time)
        self.end(ctx, task_run, result, result_at=result_at)

    def scope(self, ctx: RunContext, task_run: TaskRun) -> Scope:
        """What the task's dynamic value references see: the run, the task, the values set so far."""
        with ctx.lock:
            values = {key: dict(v) for key, v in ctx.task_values.items()}
        scope = Scope(ctx.run, task_run, values)
        if task_run.iteration_input is not None:
            scope = scope.with_item(json.loads(task_run.iteration_input))
        return scope

    def _run_job_task(self, ctx: RunContext, task_run: TaskRun) -> None:
        """A Run Job task: another job's run, waited for on no cluster."""
        set_state(self._registry, ctx.run, task_run.state, "RUNNING")
        try:
            result = self._run_job.run(ctx, task_run, self.scope(ctx, task_run))
        except UnresolvedReference as e:
            result = TaskResult("FAILED", error=str(e))
        self.end(ctx, task_run, result, message_override=result.error)

    def _for_each_task(self, ctx: RunContext, task_run: TaskRun) -> None:
        """A For each task: its iterations run on clusters; the task itself on none."""
        set_state(self._registry, ctx.run, task_run.state, "RUNNING")
        try:
            items = parse_inputs(task_run.task["for_each_task"].get("inputs", ""), self.scope(ctx, task_run))
        except (ForEachError, UnresolvedReference) as e:
            self.end(ctx, task_run, TaskResult("FAILED", error=str(e)), message_override=str(e))
            return
        result = self._for_each.run(ctx, task_run, items)
        self.end(ctx, task_run, result, message_override=result.error)

    def _condition(self, ctx: RunContext, task_run: TaskRun) -> None:
        """A condition task: evaluated here, on no cluster; its outcome goes into its task run."""
        set_state(self._registry, ctx.run, task_run.state, "RUNNING")
        operands: dict[str, str] = {}
        try:
            outcome = conditions.evaluate(task_run.task["condition_task"], self.scope(ctx, task_run), operands)
        except (conditions.ConditionError, UnresolvedReference) as e:
            if operands:  # resolved, then not comparable
                task_run.resolved_values["condition_task"] = operands
            self.end(ctx, task_run, TaskResult("FAILED", error=str(e)), message_override=str(e))
            return
        task_run.resolved_values["condition_task"] = operands
        task_run.api_extras["condition_task"] = {"outcome": outcome}
        with ctx.lock:
            ctx.outcomes[task_run.task_key] = outcome
        self.end(ctx, task_run, TaskResult("SUCCESS"))

    def end(self, ctx: RunContext, task_run: TaskRun, result: TaskResult,
            message_override: str | None = None, result_at: int | None = None) -> None:
        """Write the attempt's end state, output, timings and task values."""
        outcome = stopped_outcome(result.outcome, run_timed_out=ctx.timed_out)
        states = {
            "SUCCESS": ("TERMINATED", "SUCCESS", "", "SUCCESS", "SUCCESS"),
            "FAILED": ("TERMINATED", "FAILED", WORKLOAD_FAILED, "RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
            "CANCELED": ("TERMINATED", "CANCELED", CANCELED_MESSAGE, "USER_CANCELED", "SUCCESS"),
            "TIMEDOUT": ("TERMINATED", "TIMEDOUT", task_timeout_message(ctx.run, task_run),
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
        if result.task_values and task_run.iteration_of is None:  # an iteration's values are its own
            with ctx.lock:
                ctx.task_values[task_run.task_key] = dict(result.task_values)
        self._registry.save(ctx.run)

    def skip(self, ctx: RunContext, task_run: TaskRun, result_state: str) -> None:
        """The task does not run (its `run_if` was not met, or the run stopped first)."""
        task_run.state = RunState("SKIPPED", result_state, SKIP_MESSAGES[result_state],
                                  termination_code="SKIPPED", termination_type="SUCCESS")
        task_run.start_time = task_run.end_time = clock.now_ms()
        with ctx.lock:
            ctx.results[task_run.task_key] = result_state
        self._registry.save(ctx.run)

    def _cluster_for(self, ctx: RunContext, spec: dict[str, Any]) -> Cluster:
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

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise Stopping


def set_state(registry: RunRegistry, run: Run, state: RunState, life_cycle_state: str, message: str = "") -> None:
    """Move a run's or task run's state to `life_cycle_state` and save the run."""
    state.life_cycle_state = life_cycle_state
    state.state_message = message
    registry.save(run)
