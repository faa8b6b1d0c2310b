"""One cluster = one worker process with a warm SparkSession, seen from the workspace's side.

States follow Databricks: PENDING while the worker builds Spark, RUNNING, RESTARTING after the worker
died (it is started again on next use), TERMINATING/TERMINATED after `terminate()`. `run()` never
blocks: an attempt sent before the worker is ready waits in a queue. A worker that dies — a task
calling `os._exit`, a segfault, an OOM kill — ends its in-flight attempts INTERNAL_ERROR and never takes
this process down.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sim import clock
from sim import context as sim_context
from sim.compute import jvm, local_fs, log_delivery, shared_pool
from sim.compute.backends import ClusterBackend, SessionPlan
from sim.compute.backends.local import LocalBackend
from sim.compute.contract import Outcome, TaskInvocation, TaskResult
from sim.compute.pool import WarmPool, WorkerProcess, standby_from_env
from sim.compute.protocol import (
    UDF_WORKER_MODULE,
    Binding,
    CancelTask,
    Lease,
    Release,
    Released,
    Shutdown,
    StartTask,
    StopReason,
    TaskEnded,
    TaskStarted,
    WorkerConfig,
    WorkerFailed,
    WorkerReady,
)

SHIM_DIR = Path(__file__).parent / "dbruntime_shim"
DEFAULT_SPARK_CONF = {
    "spark.master": "local[1]",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "1g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
# A pooled worker is launched with the variables its interpreter and JVM need (these, and the cluster's
# spark_env_vars), which are its pool key; every other one — the simulator's endpoints, tokens and state
# paths (`base_env`) and whatever else the calling process has — is bound per lease (`Binding.env`).
# The simulator's own launch-time knobs are read by the worker when it starts its JVM: they must reach it, and
# a worker started under other values is not the same worker (they are in its pool key with the rest).
LAUNCH_ENV_NAMES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "VIRTUAL_ENV", "TZ",
                              "STEPBRICKS_SPARK_START_LOG", jvm.OPTIONS_ENV, jvm.CDS_ENV, local_fs.DISABLE_ENV})
LAUNCH_ENV_PREFIXES = ("JAVA", "_JAVA", "JDK_", "SPARK_", "PYSPARK_", "HADOOP_", "PYTHON", "LD_", "LANG", "LC_")
# How long a starting cluster waits for a compatible worker still resetting after its cluster ended, before
# it starts its own (a reset took 0.3-3 s on a loaded 2-core machine; a JVM start 10-80 s).
RETURN_WAIT_SECONDS = 10.0
RELEASE_SECONDS = 60.0  # a released worker must have reset by then (0.3-2 s measured), or it is killed
POOLED_APP_NAME = "stepbricks-cluster"  # a pooled worker's Spark app serves many clusters: named after none


@dataclass
class _Launch:
    """How this cluster's worker is started: its process, its session, and (poolable) its pool key."""

    env: dict[str, str]
    config: WorkerConfig
    plan: SessionPlan
    cwd: Path
    key: str | None = None


class AttemptHandle:
    """A `TaskHandle`: the attempt's result once it ended; `cancel()` stops it for real."""

    def __init__(self, cluster: LocalCluster, invocation: TaskInvocation) -> None:
        self.attempt_id = next(cluster.attempt_ids)
        self.invocation = invocation
        self._cluster = cluster
        self._done = clock.ClockEvent()
        self._moved = clock.ClockEvent()  # the worker began the code, or the attempt ended
        self._result: TaskResult | None = None
        self.stop_reason: StopReason | None = None
        self.started_ms = 0
        self.running_at_ms: int | None = None  # the simulator clock when the worker began the code

    def wait(self, timeout: float | None = None) -> TaskResult | None:
        clock.get().wait(self._done, timeout)
        return self._result

    def wait_started(self) -> bool:
        """Block until the worker began the code (True) or the attempt ended without it (False)."""
        clock.get().wait(self._moved, None)
        return bool(self.started_ms) and not self.done

    def mark_started(self, started_ms: int) -> None:
        self.started_ms = started_ms
        self.running_at_ms = clock.now_ms()
        self._moved.set()

    def cancel(self) -> None:
        self._cluster.stop_attempt(self, "CANCELED")

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def finish(self, result: TaskResult) -> bool:
        """Set the result once; later calls (a result racing a worker death) are ignored."""
        if self._done.is_set():
            return False
        self._result = result
        self._done.set()
        self._moved.set()
        return True


class LocalCluster:
    def __init__(
        self,
        cluster_id: str,
        spec: dict[str, Any],
        *,
        state_dir: Path,
        base_env: dict[str, str],
        ephemeral: bool = False,
        cancel_grace_seconds: float = 10.0,
        backend: ClusterBackend | None = None,
        worker_pool: WarmPool | None = None,
    ) -> None:
        self.cluster_id = cluster_id
        self.spec = dict(spec)
        self.cluster_name = spec.get("cluster_name", cluster_id)
        self.ephemeral = ephemeral
        # The engine warm-up (`sim.compute.warmup`) costs a JVM about as much CPU as its own start. It pays
        # off only when the first Spark task comes long after the start (`stepbricks up`): a flight that
        # follows at once ran no faster with it, and each test cluster paid it (docs/performance.md).
        self.warm_engine = False
        # A flight's cluster: its jobs train, so MLflow and scikit-learn are imported beside its first task
        # (a flight's ETL, on the core Spark leaves free), not inside the first training (docs/performance.md).
        self.warm_libraries = False
        # Once its worker has died: a second worker warming in the pool for the next restart (sim.compute.pool).
        self.standby = standby_from_env()
        self.directory = state_dir / "clusters" / cluster_id
        self.log_path = self.directory / "driver.log"
        self._dbfs_root = state_dir / "dbfs"
        self._base_env = dict(base_env)
        self._grace = cancel_grace_seconds
        self._lock = threading.RLock()
        self._state = "TERMINATED"
        self.state_message = ""
        self.session: WorkerReady | None = None
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._worker: WorkerProcess | None = None
        self._pool = worker_pool
        self._tmp_dir: Path | None = None  # the worker's temp dir (Spark's and Python's), removed on reap
        self._connection: Connection | None = None
        self._queued: list[AttemptHandle] = []
        self._in_flight: dict[int, AttemptHandle] = {}
        self._running = threading.Event()
        self._settled = threading.Event()  # the last start ended: RUNNING, or failed/killed
        self._terminating = False
        self._send_lock = threading.Lock()  # a Connection is not safe for concurrent senders
        # Attempt ids key the attempts of this cluster's worker (unique per cluster, so they repeat from flight
        # to flight instead of counting on across every cluster the process ever ran).
        self.attempt_ids = itertools.count(1)
        self.backend: ClusterBackend = backend or LocalBackend()
        self.plan: SessionPlan | None = None  # the session of the last start, and what it could not honour
        self.events: list[dict[str, Any]] = []  # clusters/events, oldest first
        self._event("CREATING", {"user": "stepbricks@localhost"})

    # --- the Cluster protocol -------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    def run(self, invocation: TaskInvocation) -> AttemptHandle:
        handle = AttemptHandle(self, invocation)
        # An actor thread: its claim is taken here, in the caller's thread, not when it first runs. Claimed
        # late, a caller that then waited on the handle through the clock left an instant with nobody busy
        # (tests/sim/compute/test_cluster_runs_tasks.py: a thread held up 0.3 s let the clock skip an hour).
        clock.ActorThread(
            target=_busy_until_done, args=(handle,), daemon=True, name=f"attempt-{handle.attempt_id}-busy"
        ).start()
        with self._lock:
            self._in_flight[handle.attempt_id] = handle
            if self._state == "RUNNING" and self._connection is not None:
                self._dispatch(handle)
            else:
                self._queued.append(handle)
                self.start()
        return handle

    def terminate(self) -> None:
        with self._lock:
            if self._state == "TERMINATED":
                return
            was_running = self._state == "RUNNING"
            self._state, self._terminating = "TERMINATING", True
            connection, process, worker = self._connection, self._process, self._worker
            self._event("TERMINATING", {"reason": {"code": "USER_REQUEST", "type": "SUCCESS"}})
            queued, self._queued = self._queued, []
            running = [h for h in self._in_flight.values() if h not in queued and not h.done]
        for handle in queued:
            self._end(handle, "CANCELED", "cluster terminated before the attempt started")
        poolable = worker is not None and worker.key is not None and self._pool is not None and self._pool.size > 0
        if poolable and was_running and not running and connection is not None:
            # An idle, healthy worker resets in the background and goes back to the pool: its reader hands it
            # over when it answers `Released`. The cluster is TERMINATED at once, as a pool-backed one is.
            assert worker is not None
            with self._lock:
                if self._process is process:
                    self._reap("TERMINATED", "terminated by request", keep_worker=True)
            worker.releases += 1
            assert self._pool is not None
            self._pool.expect(worker)
            if self._send(connection, Release()):
                timer = threading.Timer(RELEASE_SECONDS, _kill_unless_released, (worker, worker.releases))
                timer.daemon = True
                timer.start()
            else:
                self._pool.forget(worker)
                worker.kill()
        elif process is not None:
            # A worker still building Spark reads no messages: kill it rather than wait for the grace.
            if connection is None or not self._send(connection, Shutdown()):
                _kill(process)
            try:
                process.wait(timeout=self._grace)
            except subprocess.TimeoutExpired:
                _kill(process)
        with self._lock:
            if self._process is process:
                self._reap("TERMINATED", "terminated by request")

    # --- life cycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker if none runs (non-blocking; the state says PENDING/RESTARTING until ready)."""
        with self._lock:
            if self._process is not None:
                return
            self._state = "RESTARTING" if self._state == "RESTARTING" else "PENDING"
            self._terminating = False
            self._running.clear()
            self._settled.clear()
            launch = self._launch()
            worker = None
            if launch.key is not None and self._pool is not None:
                with clock.busy():  # real work of another process: a virtual clock must not skip meanwhile
                    worker = self._pool.take(launch.key, wait=RETURN_WAIT_SECONDS)
            server: socket.socket | None = None
            authkey = b""
            if worker is None:
                worker, server, authkey = self._spawn(launch)
            self._adopt(worker)
            self._event_started()
            sim_context.Thread(
                target=self._boot,
                args=(worker, server, authkey, launch),
                daemon=True,
                name=f"cluster-{self.cluster_id}",
            ).start()

    def _adopt(self, worker: WorkerProcess) -> None:
        self._worker, self._process = worker, worker.process
        worker.write_to(self.log_path)

    def wait_until_running(self, timeout: float | None = None) -> bool:
        """For the clusters API and tests: True once the worker is ready, False if it failed to start.

        A start is real work in another process: `timeout` is in real seconds and a virtual clock is held
        (not skipped ahead) meanwhile, as for attempts.
        """
        self.start()
        with clock.busy():
            self._settled.wait(timeout)
        return self._running.is_set()

    # --- events (clusters/events): what happened to the cluster, as Databricks reports it ----------
    def _event(self, kind: str, details: dict[str, Any] | None = None) -> None:
        with self._lock:
            self.events.append({"cluster_id": self.cluster_id, "timestamp": clock.now_ms(), "type": kind,
                                "details": dict(details or {})})

    def _event_started(self) -> None:
        """STARTING (or RESTARTING), saying which backend runs the cluster and what it cannot honour."""
        plan = self.plan
        assert plan is not None
        message = f"{self.backend.name} backend ({self.backend.url})"
        notes = [*plan.unhonoured, *log_delivery.unhonoured(self.spec)]
        if notes:
            message += "; cannot honour: " + "; ".join(notes)
            with self.log_path.open("a") as log:
                for note in notes:
                    log.write(f"[stepbricks] WARN {self.backend.name} backend cannot honour {note}\n")
        kind = "RESTARTING" if self._state == "RESTARTING" else "STARTING"
        self._event(kind, {"target_num_workers": plan.target_workers, "driver_state_message": message})

    def _spark_conf(self, tmp_dir: Path, *, poolable: bool = False) -> dict[str, str]:
        conf = {
            **DEFAULT_SPARK_CONF,
            "spark.app.name": POOLED_APP_NAME if poolable else f"stepbricks-{self.cluster_id}",
            # A pooled worker's warehouse is its own (emptied at every release), never one cluster's.
            "spark.sql.warehouse.dir": str((tmp_dir if poolable else self.directory) / "spark-warehouse"),
            # Spark's scratch (blockmgr-*, spark-*, artifacts-*, native libs) in a dir removed with the worker,
            # not /tmp: a killed worker never cleans up after itself.
            "spark.local.dir": str(tmp_dir),
        }
        if poolable:  # UDF workers that take each lease's variables without a new daemon (sim.compute.lease)
            conf["spark.python.worker.module"] = UDF_WORKER_MODULE
        conf.update({str(k): str(v) for k, v in (self.spec.get("spark_conf") or {}).items()})
        java_tmp = f"-Djava.io.tmpdir={tmp_dir}"
        conf["spark.driver.extraJavaOptions"] = " ".join(
            filter(None, [java_tmp, conf.get("spark.driver.extraJavaOptions", "")]))
        return conf

    def _launch(self) -> _Launch:
        """The worker this cluster needs; a local-backend one is poolable, keyed on how it is launched, with
        the simulator's variables in its binding instead (caller holds the lock)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._dbfs_root.mkdir(parents=True, exist_ok=True)
        self._tmp_dir = tmp_dir = Path(tempfile.mkdtemp(prefix="tmp-", dir=self.directory))
        poolable = isinstance(self.backend, LocalBackend) and self._pool is not None and self._pool.size > 0
        scratch = Path("<worker-scratch>") if poolable else tmp_dir  # the real one is made only when spawning
        self.plan = plan = self.backend.plan(self.spec, self._spark_conf(scratch, poolable=poolable),
                                             cluster_id=self.cluster_id)
        if plan.staging_dir is not None:
            plan.staging_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self._base_env}
        env.update({str(k): str(v) for k, v in (self.spec.get("spark_env_vars") or {}).items()})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHIM_DIR), env.get("PYTHONPATH", "")]))
        env.update(PYSPARK_PYTHON=sys.executable, PYTHONUNBUFFERED="1", SPARK_LOCAL_IP="127.0.0.1",
                   TMPDIR=str(tmp_dir))  # tasks' tempfile too: a cluster's /tmp goes with the cluster
        for key, value in plan.env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        config = WorkerConfig(self.cluster_id, plan.spark_conf, str(self._dbfs_root), warm_engine=self.warm_engine,
                              warm_libraries=self.warm_libraries, remote=plan.remote,
                              scratch_dir=str(plan.staging_dir) if plan.staging_dir is not None else None)
        if not poolable:
            return _Launch(env, config, plan, self.directory)
        spark_env = {str(k): str(v) for k, v in (self.spec.get("spark_env_vars") or {}).items()}
        launched = (set(spark_env) | set(plan.env)) - {"TMPDIR"}
        per_lease = {k for k in env if k in self._base_env or k == "TMPDIR" or not (
            k in launched or k in LAUNCH_ENV_NAMES or k.startswith(LAUNCH_ENV_PREFIXES))}
        binding = Binding(self.cluster_id, str(self._dbfs_root), str(self.directory),
                          {k: v for k, v in env.items() if k in per_lease})
        launch_env = {k: v for k, v in env.items() if k not in per_lease}
        # Not keyed on `warm_engine`/`warm_libraries`: a warm-up done or not changes how soon a worker's first jobs run, never
        # what they do (a standby is warmed under its cluster's key), so `up`'s clusters and `run`'s share workers.
        shared_dir = shared_pool.pool_dir()  # a worker another process may lease: also keyed on our code
        key = json.dumps([sys.executable, self.backend.name, self.backend.url, str(self.backend.shared_dir),
                          sorted(plan.spark_conf.items()), sorted(launch_env.items()), sorted(spark_env.items()),
                          *([str(shared_dir), shared_pool.code_stamp()] if shared_dir else [])])
        config = WorkerConfig(POOLED_APP_NAME, plan.spark_conf, str(self._dbfs_root), warm_engine=self.warm_engine,
                              warm_libraries=self.warm_libraries, binding=asdict(binding))
        return _Launch(launch_env, config, plan, self.directory, key=hashlib.sha256(key.encode()).hexdigest())

    def _spawn(self, launch: _Launch, *, standby: bool = False) -> tuple[WorkerProcess, socket.socket, bytes]:
        """Start a new worker process; it connects back to the returned server (caller holds the lock, except
        a standby's thread: this reads nothing the lock guards). Its output goes to this cluster's driver log,
        a standby's nowhere until a cluster leases it."""
        config, env, cwd = launch.config, dict(launch.env), launch.cwd
        scratch = None
        if launch.key is not None:
            scratch = Path(tempfile.mkdtemp(prefix="stepbricks-worker-"))
            conf = self.backend.plan(self.spec, self._spark_conf(scratch, poolable=True),
                                     cluster_id=self.cluster_id).spark_conf
            config = WorkerConfig(**{**asdict(config), "spark_conf": conf,
                                     "warehouse_dir": conf["spark.sql.warehouse.dir"]})
            env["TMPDIR"], cwd = str(scratch), scratch  # the JVM's; tasks get the cluster's with the binding
        if env.get("STEPBRICKS_SPARK_START_LOG") and "PYTEST_CURRENT_TEST" in os.environ:
            env["PYTEST_CURRENT_TEST"] = os.environ["PYTEST_CURRENT_TEST"]  # the start log names the test
        output, shared_dir = None, shared_pool.pool_dir() if scratch is not None else None
        command = [sys.executable, "-m", "sim.compute.worker"]
        if shared_dir is not None and scratch is not None and self._pool is not None:
            # It may outlive this process: its output goes to a file (a pipe would break when we exit), and it
            # runs under a keeper, so whoever leases it last learns its exit status (sim.compute.keeper).
            shared_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            status = shared_pool.status_file(shared_dir)
            config = replace(config, pool_dir=str(shared_dir), pool_key=launch.key, pool_limit=self._pool.size,
                             pool_idle_seconds=self._pool.idle_seconds, pool_status=str(status))
            output = scratch / shared_pool.OUTPUT_NAME
            command = [sys.executable, "-m", "sim.compute.keeper", str(status)]
        server = socket.create_server(("127.0.0.1", 0))
        authkey = os.urandom(32)
        host, port = server.getsockname()[:2]
        with open(output, "ab") if output is not None else contextlib.nullcontext() as sink:
            process = subprocess.Popen(
                [*command, f"{host}:{port}"],
                stdin=subprocess.PIPE,
                stdout=sink if sink is not None else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,  # its own process group: the JVM child dies with it on kill
            )
        assert process.stdin is not None
        process.stdin.write(authkey.hex().encode() + b"\n" + json.dumps(asdict(config)).encode() + b"\n")
        process.stdin.close()
        worker = WorkerProcess(process, key=launch.key, scratch=scratch, output_path=output)
        worker.write_to(None if standby else self.log_path)
        worker.pump_output()
        return worker, server, authkey

    def _lease(self, worker: WorkerProcess, launch: _Launch) -> WorkerReady | None:
        """Bind an idle pooled worker to this cluster: its fresh session, or None if it failed."""
        assert worker.connection is not None and launch.config.binding is not None
        if not self._send(worker.connection, Lease(Binding(**launch.config.binding))):
            return None
        try:
            hello = worker.connection.recv()
        except (EOFError, OSError):
            return None
        return hello if isinstance(hello, WorkerReady) else None

    def _boot(self, worker: WorkerProcess, server: socket.socket | None, authkey: bytes, launch: _Launch) -> None:
        """Accept the worker's connection and wait for Spark (or lease a pooled worker), then read its
        messages until it exits or goes back to the pool."""
        hello: object = None
        if server is None:  # a warm worker from the pool
            hello = self._lease(worker, launch)
            if hello is None:  # it died idle or could not reset: never handed out, a new one is started
                worker.kill()
                with self._lock:
                    if self._process is not worker.process:
                        return
                    worker, server, authkey = self._spawn(launch)
                    self._adopt(worker)
        process = worker.process
        connection = worker.connection
        if server is not None:
            connection = _accept(server, authkey, process)
            if connection is None:
                return self._worker_exited(process, "cluster worker exited before it connected")
            worker.connection = connection
            try:
                hello = connection.recv()
            except (EOFError, OSError):
                return self._worker_exited(process, "cluster worker died while starting Spark")
        assert connection is not None
        if isinstance(hello, WorkerFailed):
            worker.close_connection()
            process.wait()
            return self._worker_exited(process, f"cluster failed to start Spark: {hello.error}", "TERMINATED")
        assert isinstance(hello, WorkerReady)
        worker.ready_pid = hello.pid
        with self._lock:
            if self._process is not process:
                return
            self.session, self._connection = hello, connection
            self._state, self.state_message = "RUNNING", ""
            details: dict[str, Any] = {"current_num_workers": hello.executors}
            if hello.notes:
                details["driver_state_message"] = "cannot honour: " + "; ".join(hello.notes)
            self._event("RUNNING", details)
            queued, self._queued = self._queued, []
            for handle in queued:
                self._dispatch(handle)
            self._running.set()
            self._settled.set()
        self._ensure_standby(launch)
        self._read(worker)

    def _ensure_standby(self, launch: _Launch) -> None:
        """Start a standby worker in the background if this cluster wants one, its worker has died before (a
        cluster whose worker never dies never pays for a second JVM) and none is idle or starting."""
        if not (self.standby and self.restarts) or launch.key is None or self._pool is None:
            return
        if not self._pool.claim_standby(launch.key):
            return
        threading.Thread(target=self._stand_by, args=(launch,), name=f"standby-{self.cluster_id}",
                         daemon=True).start()

    def _stand_by(self, launch: _Launch) -> None:
        """Start a worker like this cluster's, warm its engine and ML libraries, release it into the pool.

        Not part of any simulation (no clock, no context: a plain thread), and never under the cluster's lock:
        a restart may be waiting for this standby in `WarmPool.take` while holding it."""
        assert launch.key is not None and self._pool is not None
        pool, key = self._pool, launch.key
        warm = _Launch(launch.env, replace(launch.config, warm_engine=True), launch.plan, launch.cwd, key)
        worker = None
        try:
            worker, server, authkey = self._spawn(warm, standby=True)
            pool.standby_started(key, worker)
            connection = _accept(server, authkey, worker.process)
            if connection is None:
                raise RuntimeError("the standby worker exited before it connected")
            worker.connection = connection
            ready = connection.recv()
            if not isinstance(ready, WorkerReady):
                raise RuntimeError("the standby worker could not start Spark")
            worker.ready_pid = ready.pid
            connection.send(Release())
            answer = connection.recv()
            if not isinstance(answer, Released) or not answer.ok:
                raise RuntimeError(f"the standby worker could not reset: {getattr(answer, 'reason', answer)}")
            worker.releases = worker.released = 1  # released once and answered, as a worker its cluster gave back
        except Exception:  # a standby is an optimisation: the next restart starts its own worker instead
            pool.standby_failed(key, worker)
            return
        pool.standby_ready(key, worker)

    def _read(self, worker: WorkerProcess) -> None:
        connection, process = worker.connection, worker.process
        assert connection is not None
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, TaskStarted):
                self._on_started(message)
            elif isinstance(message, Released):
                worker.released += 1
                if message.ok and self._pool is not None:
                    self._pool.give(worker)
                    return
                try:
                    with self.log_path.open("a") as log:
                        log.write(f"[stepbricks] the worker is not reused: {message.reason}\n")
                except OSError:  # the cluster's directory is gone with its simulator
                    pass
            elif isinstance(message, TaskEnded):
                worker.flush_output()  # its output file is followed every 50 ms: the attempt's lines first
                with self._lock:
                    handle = self._in_flight.pop(message.attempt_id, None)
                if handle is not None:
                    handle.finish(message.result)
        process.wait()
        self._worker_exited(process, f"cluster worker died (exit code {process.returncode})")
        if self._pool is not None:
            self._pool.forget(worker)  # it was being released: it will not come back
        worker.kill()  # its scratch goes too

    def _worker_exited(self, process: subprocess.Popen[bytes], message: str, state: str = "RESTARTING") -> None:
        with self._lock:
            if self._process is not process:
                return
            if self._terminating:
                self._reap("TERMINATED", "terminated by request")
            else:
                self.restarts += state == "RESTARTING"
                self._event("DRIVER_NOT_RESPONDING" if state == "RESTARTING" else "TERMINATING",
                            {"driver_state_message": message})
                self._reap(state, f"{message}; see {self.log_path}")

    def _reap(self, state: str, message: str, *, keep_worker: bool = False) -> None:
        """Forget the worker (killed unless `keep_worker`) and end every attempt it held (caller holds the lock)."""
        worker, self._worker = self._worker, None
        self._process, self._connection = None, None
        if worker is not None and not keep_worker:
            worker.kill()
        tmp_dir, self._tmp_dir = self._tmp_dir, None
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        log_delivery.deliver(self.spec, self.cluster_id, self.log_path, self._dbfs_root)
        self._state, self.state_message, self.session = state, message, None
        self._running.clear()
        self._settled.set()
        handles = list(self._in_flight.values())
        self._in_flight.clear()
        self._queued = []
        for handle in handles:
            if handle.stop_reason is not None:
                self._end(handle, handle.stop_reason, None)
            else:
                self._end(handle, "INTERNAL_ERROR", message)

    # --- attempts -------------------------------------------------------------------------------
    def _send(self, connection: Connection, message: object) -> bool:
        """False if the worker is gone; its reader thread then ends the attempts it held."""
        try:
            with self._send_lock:
                connection.send(message)
            return True
        except OSError:
            return False

    def _dispatch(self, handle: AttemptHandle) -> None:
        assert self._connection is not None
        self._send(self._connection, StartTask(handle.attempt_id, handle.invocation))

    def _on_started(self, message: TaskStarted) -> None:
        handle = self._in_flight.get(message.attempt_id)
        if handle is None:
            return
        handle.mark_started(message.started_ms)
        if handle.invocation.timeout_seconds > 0:
            sim_context.Thread(target=self._time_out, args=(handle,), daemon=True).start()

    def _time_out(self, handle: AttemptHandle) -> None:
        if not clock.get().wait(handle._done, handle.invocation.timeout_seconds):
            self.stop_attempt(handle, "TIMEDOUT")

    def stop_attempt(self, handle: AttemptHandle, reason: StopReason) -> None:
        """Cancel or time out: ask the worker, and kill it if the attempt has not stopped after the grace."""
        with self._lock:
            if handle.done or handle.stop_reason is not None:
                return
            handle.stop_reason = reason
            if handle in self._queued:
                self._queued.remove(handle)
                self._in_flight.pop(handle.attempt_id, None)
                self._end(handle, reason, None)
                return
            connection, process = self._connection, self._process
        if connection is not None and not self._send(connection, CancelTask(handle.attempt_id, reason)):
            return
        sim_context.Thread(target=self._enforce_stop, args=(handle, process), daemon=True).start()

    def _enforce_stop(self, handle: AttemptHandle, process: subprocess.Popen[bytes] | None) -> None:
        if clock.get().wait(handle._done, self._grace) or process is None:
            return
        with self._lock:
            if self._process is process and not handle.done:
                self.restarts += 1
                self._reap("RESTARTING", f"attempt {handle.attempt_id} did not stop within {self._grace:g} s")

    def _end(self, handle: AttemptHandle, outcome: Outcome, error: str | None) -> None:
        now = clock.now_ms()
        handle.finish(TaskResult(outcome=outcome, error=error, started_ms=handle.started_ms or now, ended_ms=now))

    def __repr__(self) -> str:
        return f"<LocalCluster {self.cluster_id} {self._state}>"


def _busy_until_done(handle: AttemptHandle) -> None:
    """An attempt is real work in another process (cluster start included): while it runs, a virtual
    clock must not skip ahead, or its timeout and cancel grace would fire at once. Runs on an actor thread
    (busy from its start); a real-time wait on purpose: going through the clock would release the claim."""
    threading.Event.wait(handle._done)  # `_done` is a ClockEvent, whose own wait would release


def _kill_unless_released(worker: WorkerProcess, release: int) -> None:
    """A released worker that has not reset in time is killed, never pooled half-reset."""
    if worker.released < release:
        worker.kill()


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's process group (the worker and its JVM), which this module started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _accept(server: socket.socket, authkey: bytes, process: subprocess.Popen[bytes]) -> Connection | None:
    """The worker's authenticated connection, or None if it died first.

    `multiprocessing.connection.Listener.accept()` cannot be interrupted from another thread, so accept
    with a timeout and check on the process in between; then authenticate as `Listener.accept` does.
    """
    server.settimeout(0.5)
    try:
        while True:
            try:
                sock, _ = server.accept()
                break
            except TimeoutError:
                if process.poll() is not None:
                    return None
    finally:
        server.close()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small messages: no Nagle/delayed-ACK wait
    return shared_pool.authenticate(sock, authkey, serve=True)
