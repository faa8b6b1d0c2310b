"""A process-wide pool of idle, warm cluster workers, as Databricks instance pools keep idle instances ready.

A local-backend worker costs a JVM and a SparkSession to start (10-15 CPU seconds, 8-25 s on 2 cores).
When its cluster terminates healthy and idle, the worker resets its session (`sim.compute.lease`) and waits
here instead of being killed; the next cluster of this process whose launch is compatible — the same
`key`: backend, Spark conf, the worker's environment without the simulator's own endpoints — leases it and
is RUNNING in milliseconds. What binds a worker to one simulator (its endpoints, state directories, driver
log, catalog, temp views, cached tables, session conf, MLflow state) is reset on release and set anew on
each lease; what carries over is listed in docs/contracts.md.

Bounded: at most `STEPBRICKS_WORKER_POOL` idle workers (default 1; 0 turns pooling off), each killed after
`STEPBRICKS_WORKER_POOL_IDLE_SECONDS` (default 300) of idleness; the oldest goes first when a newer one
arrives. Idle workers die with this process: killed at exit, and a worker whose manager connection closes
(this process killed outright) exits by itself, its JVM with it; unless `STEPBRICKS_WORKER_POOL_DIR` names a
directory, where an idle worker then waits for the next process to lease it (sim.compute.shared_pool).

A standby (Databricks instance pools' "min idle instances"): a cluster that asks for one, once its worker
has died (a killed worker, a crash) and it is RUNNING again, has a second worker started in the
background, its engine and ML libraries warmed while it waits idle here; the cluster's next restart
leases the standby instead of starting a JVM, and a new standby is started behind it. Off unless asked for
(`LocalCluster.standby`, `Simulator.start(standby_worker=True)`, `STEPBRICKS_WORKER_STANDBY=1`): it costs
a JVM's memory and start-up CPU, which pay off only where workers die often (`stepbricks experiment`).

Process-wide on purpose (docs/contracts.md, module state): a worker outlives the simulator that started
it, which is the point. Idle timeouts are real time: idle workers are this process's resources, not part
of any simulation.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import BinaryIO

from sim.compute import shared_pool

SIZE_ENV = "STEPBRICKS_WORKER_POOL"
IDLE_ENV = "STEPBRICKS_WORKER_POOL_IDLE_SECONDS"
STANDBY_ENV = "STEPBRICKS_WORKER_STANDBY"
DEFAULT_SIZE = 1
DEFAULT_IDLE_SECONDS = 300.0
_FOLLOW_SECONDS = 0.05  # how often a worker's output file is read when it has nothing new


def standby_from_env() -> bool:
    """`STEPBRICKS_WORKER_STANDBY`: 1/true/yes asks every cluster of the process for a standby."""
    return os.environ.get(STANDBY_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(eq=False)
class WorkerProcess:
    """The manager side of one worker subprocess (a process group: the worker and its driver JVM).

    Its output (the worker's and the JVM's) is pumped into the driver log of whichever cluster holds it,
    so a pooled worker writes each cluster's log, never the first one's.
    """

    process: subprocess.Popen[bytes] | shared_pool.ForeignProcess
    key: str | None = None  # the pool key; None: never pooled (not a local-backend worker)
    scratch: Path | None = None  # the worker's own scratch (JVM temp, spark.local.dir, warehouse)
    connection: Connection | None = None
    log_path: Path | None = None
    # Where the worker writes its output when it may outlive this process (sim.compute.shared_pool): a file
    # followed from `output_offset` on, not a pipe.
    output_path: Path | None = None
    output_offset: int = 0
    idle_since: float = 0.0
    releases: int = 0  # `Release` messages sent to it…
    released: int = 0  # …and answered
    _log_lock: threading.Lock = field(default_factory=threading.Lock)
    _kill_lock: threading.Lock = field(default_factory=threading.Lock)
    _pump: threading.Thread | None = None
    _source: BinaryIO | None = None  # the output file being followed

    ready_pid: int | None = None  # the worker's own pid, as it reported it (under a keeper: the keeper's child)

    @property
    def pid(self) -> int:
        """The worker interpreter's pid (what a task's `os.getpid()` says), once it has reported ready."""
        return self.ready_pid or self.process.pid

    def pump_output(self) -> None:
        copy = self._follow_output if self.output_path is not None else self._copy_output
        self._pump = threading.Thread(target=copy, name=f"worker-{self.pid}-log", daemon=True)
        self._pump.start()

    def _write_log(self, chunk: bytes) -> None:
        with self._log_lock:
            self._append_locked(chunk)

    def _append_locked(self, chunk: bytes) -> None:
        if self.log_path is None:
            return
        try:
            with self.log_path.open("ab") as log:
                log.write(chunk)
        except OSError:  # the cluster's directory went with its simulator: keep draining the output
            pass

    def _follow_output(self) -> None:
        """Copy what the worker appends to its output file, until it exits (then what it wrote last)."""
        assert self.output_path is not None
        try:
            source = self.output_path.open("rb")
        except OSError:
            return
        with source:
            source.seek(self.output_offset)
            with self._log_lock:
                self._source = source
            while True:
                with self._log_lock:
                    copied = self._drain_locked()
                if copied:
                    continue
                if self.process.poll() is not None:
                    with self._log_lock:
                        while self._drain_locked():
                            pass
                        self._source = None
                    return
                time.sleep(_FOLLOW_SECONDS)

    def _drain_locked(self) -> bool:
        """Copy one chunk of the output file to the log (caller holds the log lock): False if none was new."""
        if self._source is None:
            return False
        chunk = self._source.read(65536)
        if chunk:
            self._append_locked(chunk)
        return bool(chunk)

    def _copy_output(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while chunk := stream.read1(65536):
            self._write_log(chunk)

    def flush_output(self) -> None:
        """Copy what the worker has written so far to the log now (an attempt ended: its lines are in)."""
        with self._log_lock:
            while self._drain_locked():
                pass

    def write_to(self, log_path: Path | None) -> None:
        """Send the worker's output to this driver log from now on (None: discard it while idle); what the
        worker wrote to its output file until now goes to the log it was writing (a pipe is read at once)."""
        with self._log_lock:
            while self._drain_locked():
                pass
            self.log_path = log_path

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process group, wait for it, flush its last output and remove its scratch.

        Idempotent and safe from several threads at once: a cluster terminated while its boot thread was
        leasing this worker killed it from both, and two concurrent `Connection.close()`s closed the same
        descriptor twice (EBADF, or another file's descriptor if the number was reused in between)."""
        with self._kill_lock:
            self._kill()

    def close_connection(self) -> None:
        """Close the manager's end (under the kill lock: another thread may be killing the worker)."""
        with self._kill_lock:
            if self.connection is not None:
                self.connection.close()

    def _kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        if self.connection is not None:
            self.connection.close()  # a second close (under the lock) does nothing
        if self._pump is not None and self._pump is not threading.current_thread():
            self._pump.join(5)  # the pipe closes once the JVM is gone too: the log then has every line
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


class WarmPool:
    """Idle workers by key; thread-safe. `take` and `give` are the whole protocol."""

    def __init__(self, size: int, idle_seconds: float) -> None:
        self.size = size
        self.idle_seconds = idle_seconds
        self._lock = threading.Condition()
        self._idle: list[WorkerProcess] = []  # oldest first
        self._returning: list[WorkerProcess] = []  # released by their cluster, still resetting
        self._standbys: dict[str, WorkerProcess | None] = {}  # key -> the standby starting (None: not spawned yet)
        self._reaper: threading.Thread | None = None
        self.leased = 0  # workers handed out (for benches and tests)
        self.standbys_started = 0  # (for benches and tests)
        self.shared_leased = 0  # of `leased`, workers another process left (sim.compute.shared_pool)

    def take(self, key: str, wait: float = 0.0) -> WorkerProcess | None:
        """The most recently released live worker with this key, or None. Dead ones are dropped here.

        A compatible worker still resetting after its cluster terminated (0.3-3 s), or a standby still
        warming, is waited for up to `wait` seconds: a new workspace often starts its cluster while the last
        one's is on its way back, and a worker killed soon after the last restart finds its standby nearly
        ready (it began before the kill, so it is ready before a JVM started now would be)."""
        dead: list[WorkerProcess] = []
        found = None
        deadline = time.monotonic() + wait
        with self._lock:
            while True:
                for worker in reversed(self._idle):
                    if not worker.alive():
                        dead.append(worker)
                    elif worker.key == key and found is None:
                        found = worker
                for worker in [*dead, *([found] if found else [])]:
                    if worker in self._idle:
                        self._idle.remove(worker)
                remaining = deadline - time.monotonic()
                coming = any(w.key == key and w.alive() for w in self._returning) or (
                    key in self._standbys and self._standbys[key] is not None
                    and self._standbys[key].alive())  # type: ignore[union-attr]
                if found is not None or not coming or remaining <= 0:
                    break
                self._lock.wait(remaining)
            if found is not None:
                self.leased += 1
        for worker in dead:
            worker.kill()
        if found is None and self.size > 0:
            found = self._claim_shared(key)
        return found

    def _claim_shared(self, key: str) -> WorkerProcess | None:
        """An idle worker another process left (`STEPBRICKS_WORKER_POOL_DIR`), or None."""
        directory = shared_pool.pool_dir()
        if directory is None:
            return None
        claimed = shared_pool.claim(directory, key)
        if claimed is None:
            return None
        output = claimed.scratch / shared_pool.OUTPUT_NAME
        try:
            offset = output.stat().st_size  # the last process's lines are in its clusters' logs already
        except OSError:
            offset = 0
        worker = WorkerProcess(claimed.process, key=key, scratch=claimed.scratch, connection=claimed.connection,
                               output_path=output, output_offset=offset, releases=1, released=1)
        worker.pump_output()
        with self._lock:
            self.leased += 1
            self.shared_leased += 1
        return worker

    def give(self, worker: WorkerProcess) -> None:
        """Keep an idle, reset worker; the oldest idle one is killed when the pool is full (or off)."""
        evicted = []
        with self._lock:
            if worker in self._returning:
                self._returning.remove(worker)
            if worker.key is not None and self.size > 0 and worker.alive():
                worker.idle_since = time.monotonic()
                worker.write_to(None)
                self._idle.append(worker)
                self._start_reaper()
                self._lock.notify_all()
            else:
                evicted.append(worker)
            while len(self._idle) > self.size:
                evicted.append(self._idle.pop(0))
        for old in evicted:
            old.kill()

    def expect(self, worker: WorkerProcess) -> None:
        """Its cluster released it: it comes back through `give`, or `forget` says it will not."""
        with self._lock:
            self._returning.append(worker)

    def forget(self, worker: WorkerProcess) -> None:
        with self._lock:
            if worker in self._returning:
                self._returning.remove(worker)
                self._lock.notify_all()

    def claim_standby(self, key: str) -> bool:
        """True if the caller should start a standby for `key`: pooling is on and no worker with this key
        is idle, resetting or starting already. The caller then reports `standby_started` and ends with
        `standby_ready` (or `standby_failed`)."""
        with self._lock:
            if self.size <= 0 or key in self._standbys:
                return False
            if any(w.key == key and w.alive() for w in [*self._idle, *self._returning]):
                return False
            self._standbys[key] = None
            self.standbys_started += 1
            return True

    def standby_started(self, key: str, worker: WorkerProcess) -> None:
        with self._lock:
            self._standbys[key] = worker

    def standby_ready(self, key: str, worker: WorkerProcess) -> None:
        """The standby is warm and released: idle from now on, like a worker its cluster gave back."""
        with self._lock:  # reentrant: a waiting `take` sees the standby either starting or idle, never neither
            self._standbys.pop(key, None)
            self.give(worker)

    def standby_failed(self, key: str, worker: WorkerProcess | None) -> None:
        with self._lock:
            self._standbys.pop(key, None)
            self._lock.notify_all()
        if worker is not None:
            worker.kill()

    def idle(self) -> list[WorkerProcess]:
        with self._lock:
            return list(self._idle)

    def clear(self) -> None:
        """Kill every idle worker and every standby still starting (process exit, tests)."""
        with self._lock:
            idle, self._idle = self._idle, []
            starting = [w for w in self._standbys.values() if w is not None]
            self._lock.notify_all()
        for worker in [*idle, *starting]:
            worker.kill()

    def leave(self) -> None:
        """At exit, with `STEPBRICKS_WORKER_POOL_DIR` set: let idle and resetting workers outlive this process
        (their connection closes; each advertises itself once reset) and kill standbys still starting."""
        if shared_pool.pool_dir() is None:
            return self.clear()
        with self._lock:
            leaving, self._idle = [*self._idle, *self._returning], []
            self._returning = []
            starting = [w for w in self._standbys.values() if w is not None]
            self._lock.notify_all()
        for worker in leaving:
            if worker.output_path is None or not worker.alive():  # its output is a pipe to this process
                worker.kill()
            else:
                worker.close_connection()
        for worker in starting:
            worker.kill()

    def _start_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap_idle, name="worker-pool-reaper", daemon=True)
            self._reaper.start()

    def _reap_idle(self) -> None:
        while True:
            with self._lock:
                if not self._idle:
                    return
                now = time.monotonic()
                expired = [w for w in self._idle if now - w.idle_since >= self.idle_seconds]
                for worker in expired:
                    self._idle.remove(worker)
                if not expired:
                    oldest = min(w.idle_since for w in self._idle)
                    self._lock.wait(max(oldest + self.idle_seconds - now, 0.01))
            for worker in expired:
                worker.kill()


_shared: list[WarmPool] = []  # the process's pool, created on first use (process-wide: see the docstring)
_shared_lock = threading.Lock()


def shared() -> WarmPool:
    """This process's pool, sized from the environment when first used; killed at exit."""
    with _shared_lock:
        if not _shared:
            size = int(os.environ.get(SIZE_ENV, DEFAULT_SIZE))
            idle = float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_SECONDS))
            _shared.append(WarmPool(max(size, 0), idle))
            atexit.register(_shared[0].leave)
        return _shared[0]

