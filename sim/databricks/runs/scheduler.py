"""Executes runs: the run's thread walks the task graph, one thread per running task drives its attempts.

The pieces have a module each: `queue.py` (waiting for a slot under `max_concurrent_runs`),
`attempts.py` (one attempt's lifecycle on a cluster), `retries.py`, `timeouts.py` (the run's deadline)
and `verdict.py` (the parent's result, `run_if`). This module starts and stops the threads and walks
the graph. Time comes from `sim.clock` only; the walk blocks on its run's wake-up event (a task ended,
the run changed), never on a polling loop.

A repair (runs/repair) walks the same graph with only the chosen tasks pending: the others keep their
latest result (and task values) as already-finished upstreams.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sim import clock
from sim.compute.contract import ClusterPool
from sim.databricks.faults.models import FaultList
from sim.databricks.runs.attempts import AttemptRunner, set_state
from sim.databricks.runs.conditions import dependency_result
from sim.databricks.runs.context import RunContext, Stopping
from sim.databricks.runs.creation import RunFactory
from sim.databricks.runs.models import Run, RunState, TaskRun
from sim.databricks.runs.queue import RunQueue
from sim.databricks.runs.registry import RunRegistry
from sim.databricks.runs.retries import run_with_retries
from sim.databricks.runs.timeouts import RunDeadline
from sim.databricks.runs.verdict import FailureStyle, close_repair, run_if, run_verdict
from sim.databricks.workspace.models import WorkspaceBackend

__all__ = ["FailureStyle", "Scheduler"]
log = logging.getLogger(__name__)


class Scheduler:
    """The runs service's `Executor`: one actor thread per run, built with everything it uses."""

    def __init__(
        self,
        registry: RunRegistry,
        *,
        factory: RunFactory,
        workspace: WorkspaceBackend,
        faults: FaultList,
        compute: Callable[[], ClusterPool],
        job_settings: Callable[[int], dict[str, Any] | None],
        failure_style: FailureStyle = "workspace",
    ) -> None:
        if failure_style not in ("workspace", "terminated"):
            raise ValueError(f"failure_style must be 'workspace' or 'terminated', got {failure_style!r}")
        self._registry = registry
        self._failure_style = failure_style
        self._stopping = clock.ClockEvent()
        self._queue = RunQueue(registry, job_settings=job_settings, stopping=self._stopping)
        self._attempts = AttemptRunner(registry, workspace=workspace, faults=faults, compute=compute,
                                       stopping=self._stopping, factory=factory, start_run=self.start)
        # The runs in flight (what shutdown stops and joins); finished ones leave both.
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._contexts: list[RunContext] = []

    def start(self, run: Run) -> None:
        # An actor from the moment run-now returns: a run between two of its steps (queue, cluster, task
        # hand-offs) is work, so the virtual clock does not skip a caller's Wait past it.
        self._launch(clock.ActorThread(target=self._execute, args=(run,), name=f"run-{run.run_id}", daemon=True))

    def start_repair(self, run: Run, keys: list[str]) -> None:
        """Re-run `keys` of a finished run (the service has already opened the repair record)."""
        self._launch(clock.ActorThread(target=self._execute, args=(run, keys), name=f"repair-{run.run_id}",
                                       daemon=True))

    def _launch(self, thread: threading.Thread) -> None:
        with self._lock:  # started under the lock: a pruning launch never drops a thread not yet alive
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop executing: running tasks are cancelled on their clusters; their runs stay non-terminal in
        the store, so the next start marks them INTERNAL_ERROR (the restart semantics)."""
        self._stopping.set()
        self._registry.signal.fire()  # queued runs wake and leave
        with self._lock:
            contexts, threads = list(self._contexts), list(self._threads)
        for ctx in contexts:
            ctx.halt()
            ctx.wakeup.set()
        for thread in threads:
            thread.join(timeout)

    # --- one run ---------------------------------------------------------------------------------
    def _execute(self, run: Run, rerun: list[str] | None = None) -> None:
        try:
            self._queue.wait_turn(run)
            ctx = RunContext(run, RunDeadline(run.timeout_seconds))
            with self._lock:
                self._contexts.append(ctx)
            set_state(self._registry, run, run.state, "PENDING")
            try:
                with ctx.deadline.held():  # timeout_seconds: a virtual clock stops there
                    self._run_graph(ctx, rerun)
            finally:
                if not self._stopping.is_set():
                    set_state(self._registry, run, run.state, "TERMINATING")
                for cluster in ctx.clusters.values():
                    try:
                        cluster.terminate()
                    except Exception:  # a cluster that fails to stop must not hide the run's result
                        log.exception("terminating job cluster %s failed", cluster.cluster_id)
                with self._lock:
                    self._contexts.remove(ctx)
            run.state = run_verdict(run, timed_out=ctx.timed_out, failure_style=self._failure_style)
            run.end_time = clock.now_ms()
            close_repair(run)
            self._registry.save(run)
        except Stopping:
            return
        except Exception as e:  # the scheduler's own bug: report it on the run rather than hang it
            log.exception("run %s failed inside the scheduler", run.run_id)
            if not self._stopping.is_set():
                run.state = RunState("INTERNAL_ERROR", "FAILED", f"Internal error in the fake workspace: {e}",
                                     termination_code="INTERNAL_ERROR", termination_type="INTERNAL_ERROR")
                run.end_time = clock.now_ms()
                close_repair(run)
                self._registry.save(run)

    def _run_graph(self, ctx: RunContext, rerun: list[str] | None = None) -> None:
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
                    if latest[key].condition_outcome is not None:
                        ctx.outcomes[key] = latest[key].condition_outcome
                else:  # never ran (a run skipped before it started): counts as not run
                    ctx.results[key] = "UPSTREAM_CANCELED"
            specs = {k: specs[k] for k in rerun}
        first: dict[str, TaskRun] = {}
        for key, spec in specs.items():
            waiting = "BLOCKED" if spec.get("depends_on") else "PENDING"
            first[key] = TaskRun(self._registry.new_task_run_id(), key, 0, spec, RunState(waiting),
                                 repair_id=repair_id)
            self._registry.add_task_run(run, first[key])
        set_state(self._registry, run, run.state, "RUNNING")
        pending = dict(specs)
        started: set[str] = set()
        # The run's wake-up is set by a task's end and by any change to a run of this job (a cancel).
        with self._registry.signal.listening(run.job_id, ctx.wakeup):
            while True:
                ctx.wakeup.clear()  # before looking: a change from here on wakes the wait below
                if self._stopping.is_set():
                    raise Stopping
                ctx.check_cancel_and_deadline()
                for key, spec in list(pending.items()):
                    deps = spec.get("depends_on") or []
                    with ctx.lock:
                        if any(d["task_key"] not in ctx.results for d in deps):
                            continue
                        upstream = [dependency_result(ctx.results[d["task_key"]], ctx.outcomes.get(d["task_key"]),
                                                      d.get("outcome")) for d in deps]
                    del pending[key]
                    verdict = run_if(spec.get("run_if") or "ALL_SUCCESS", upstream)
                    if verdict is None and not ctx.stop.is_set():
                        started.add(key)
                        clock.ActorThread(target=self._run_task, args=(ctx, first[key]),
                                          name=f"run-{run.run_id}-{key}", daemon=True).start()
                    else:
                        self._attempts.skip(ctx, first[key], verdict or "UPSTREAM_CANCELED")
                with ctx.lock:
                    if not pending and started <= ctx.finished:
                        return
                # Wake at the deadline at the latest (the timer `_execute` holds), else on a change only.
                clock.get().wait(ctx.wakeup, None if ctx.stop.is_set() else ctx.deadline.remaining())

    def _run_task(self, ctx: RunContext, first: TaskRun) -> None:
        try:
            last = run_with_retries(ctx, first, self._attempts.run, registry=self._registry,
                                    stopping=self._stopping)
            with ctx.lock:
                ctx.results[last.task_key] = last.state.result_state or "FAILED"
        except Stopping:
            return
        except Exception:  # the scheduler's own bug: its dependents must not wait forever (then report it)
            with ctx.lock:
                ctx.results.setdefault(first.task_key, "FAILED")
            raise
        finally:
            with ctx.lock:
                ctx.finished.add(first.task_key)
            ctx.wakeup.set()
