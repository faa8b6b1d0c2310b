"""Worker side: one thread per task attempt, and the means to stop it for real.

Stopping = cancel the attempt's Spark jobs (`SparkContext.cancelJobGroup`, the job group being the run
id; on Spark Connect `interruptTag` of the run's operation tag) and raise `AttemptStopped` inside its thread (`PyThreadState_SetAsyncExc`), again every 0.2 s while
it still runs. A thread blocked in C (a long `time.sleep`) cannot be stopped this way; the manager then
kills the worker after its grace period.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim import clock
from sim import context as sim_context
from sim.compute import context, runner, runtime
from sim.compute.contract import TaskResult
from sim.compute.errors import AttemptStopped
from sim.compute.protocol import CancelTask, StartTask, TaskEnded, TaskStarted, WorkerReady

_REINJECT_SECONDS = 0.2


def _set_async_exc(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in the thread at its next bytecode (None clears a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


@dataclass
class _Attempt:
    context: context.TaskContext
    reused: bool
    thread: threading.Thread | None = None
    done: bool = False
    finished: threading.Event = field(default_factory=clock.ClockEvent)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _tag(run_id: int) -> str:
    """A Spark Connect operation tag for a run (tags may not contain commas; a run id is digits)."""
    return f"stepbricks-run-{run_id}"


class Executor:
    def __init__(self, spark: Any, send: Callable[[object], None], session: WorkerReady) -> None:
        self._spark = spark
        self._send = send
        self._session = session
        self._served = 0
        self._lock = threading.Lock()
        self._attempts: dict[int, _Attempt] = {}

    @property
    def session(self) -> WorkerReady:
        return self._session

    def busy(self) -> str:
        """'' when no attempt of this executor is still running, else which ones."""
        with self._lock:
            return f"attempts still running: {sorted(self._attempts)}" if self._attempts else ""

    def start(self, message: StartTask) -> None:
        with self._lock:
            attempt = _Attempt(context.TaskContext(message.attempt_id, message.invocation), self._served > 0)
            self._served += 1
            self._attempts[message.attempt_id] = attempt
        attempt.thread = sim_context.Thread(
            target=self._run, args=(attempt,), daemon=True, name=f"attempt-{message.attempt_id}"
        )
        attempt.thread.start()

    def cancel(self, message: CancelTask) -> None:
        with self._lock:
            attempt = self._attempts.get(message.attempt_id)
        if attempt is None or attempt.done:
            return
        attempt.context.stop_reason = message.reason
        try:
            if runtime.is_remote(self._spark):  # Spark Connect: the attempt's operations carry its tag
                self._spark.interruptTag(_tag(attempt.context.invocation.run_id))
            else:
                self._spark.sparkContext.cancelJobGroup(str(attempt.context.invocation.run_id))
        except Exception as error:  # the JVM may be busy or gone: the thread interrupt still applies
            print(f"[stepbricks] cancelling the Spark jobs failed: {error}", file=sys.__stderr__)
        sim_context.Thread(target=self._interrupt, args=(attempt,), daemon=True).start()

    def _interrupt(self, attempt: _Attempt) -> None:
        while True:
            with attempt.lock:
                if attempt.done or attempt.thread is None or attempt.thread.ident is None:
                    return
                _set_async_exc(attempt.thread.ident, AttemptStopped)
            if clock.get().wait(attempt.finished, _REINJECT_SECONDS):
                return

    def _execute(self, attempt: _Attempt) -> dict[str, Any]:
        invocation = attempt.context.invocation
        if runtime.is_remote(self._spark):  # tags are per thread on Connect, like job groups
            self._spark.clearTags()
            self._spark.addTag(_tag(invocation.run_id))
        else:
            self._spark.sparkContext.setJobGroup(
                str(invocation.run_id), f"{invocation.task_key} attempt {invocation.attempt_number}", True
            )
        return runner.run_attempt(attempt.context)

    def _run(self, attempt: _Attempt) -> None:
        task = attempt.context
        context.bind(task)
        started_ms = clock.now_ms()
        self._send(TaskStarted(task.attempt_id, started_ms))
        invocation = task.invocation
        print(
            f"[stepbricks] attempt {task.attempt_id}: run {invocation.run_id} task {invocation.task_key!r} "
            f"#{invocation.attempt_number} ({invocation.kind}) started",
            file=sys.__stderr__,
        )
        fields: dict[str, Any] | None = None
        while True:  # an AttemptStopped may still land after the body returned: absorb it here
            try:
                if fields is None:
                    fields = self._execute(attempt)
                with attempt.lock:
                    attempt.done = True
                    _set_async_exc(threading.get_ident(), None)
                break
            except AttemptStopped:
                fields = fields or runner.stopped_fields(task)
        attempt.finished.set()
        context.unbind()
        with self._lock:
            self._attempts.pop(task.attempt_id, None)
        result = TaskResult(
            **fields,
            spark_session_reused=attempt.reused,
            started_ms=started_ms,
            ended_ms=clock.now_ms(),
            spark_session_started_ms=self._session.session_started_ms,
            spark_startup_ms=self._session.session_startup_ms,
            worker_pid=os.getpid(),
        )
        print(f"[stepbricks] attempt {task.attempt_id}: {result.outcome}", file=sys.__stderr__)
        self._send(TaskEnded(task.attempt_id, result))
