"""A cluster's worker process: builds one SparkSession, then runs the attempts the manager sends.

Started by `sim.compute.cluster` as `python -m sim.compute.worker HOST:PORT`,
with the authkey and the `WorkerConfig` as two lines on stdin (never on the command line). Its
stdout/stderr are the cluster's driver log. It exits when the manager's connection closes, unless it is idle
and may outlive its manager (sim.compute.shared_pool): it then waits for another process to lease it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from sim import clock, collector
from sim.compute import (
    capture,
    errors,
    jvm,
    lease,
    local_fs,
    mlflow_registry,
    runtime,
    seeded_ids,
    shared_pool,
    warmup,
)
from sim.compute.dbutils import DBUtils
from sim.compute.executor import Executor
from sim.compute.protocol import (
    Binding,
    CancelTask,
    Lease,
    Release,
    Released,
    Shutdown,
    StartTask,
    WorkerConfig,
    WorkerFailed,
    WorkerReady,
)


def _no_delay(connection: Connection) -> None:
    """TaskStarted then TaskEnded are small writes back to back: without TCP_NODELAY the second waits
    ~40 ms for the delayed ACK of the first (measured: 30-45 ms added to every attempt)."""
    with socket.socket(fileno=os.dup(connection.fileno())) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _with_jvm_options(config: WorkerConfig) -> dict[str, str]:
    """The cluster's conf with the simulator's JVM tuning before its own Java options (which win): added
    here, at launch, not in the conf the cluster was keyed and reported with (sim.compute.jvm)."""
    conf = dict(config.spark_conf)
    if config.remote:
        return conf  # the driver is the Connect server's JVM, tuned where it is started
    tuned = jvm.options()
    kinds = ["driver", *(["executor"] if conf.get("spark.master", "").startswith("spark://") else [])]
    for kind in kinds:
        key = f"spark.{kind}.extraJavaOptions"
        conf[key] = " ".join(filter(None, [tuned, conf.get(key, "")]))
    return conf


def _start_spark(config: WorkerConfig) -> tuple[Any, WorkerReady]:
    started_ms = clock.now_ms()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(config.remote) if config.remote else SparkSession.builder
    conf = _with_jvm_options(config)
    if not config.remote:  # after the JVM options: a class archive built meanwhile keeps Spark's class path
        extra_conf, extra_env = local_fs.launch_settings(conf)
        conf.update(extra_conf)
        os.environ.update(extra_env)  # read by spark-class when pyspark launches the driver
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    notes: tuple[str, ...] = ()
    if config.remote:
        notes = _refused_conf(spark, config.spark_conf)
        master = config.remote
    else:
        spark.sparkContext.setLogLevel("WARN")
        master = spark.sparkContext.master
    if config.warm_up:  # the first action costs seconds: pay it while the cluster is PENDING
        spark.range(1).count()
    if config.warm_engine:
        warmup.warm_engine(spark, Path(config.scratch_dir or tempfile.gettempdir()))
    startup_ms = clock.now_ms() - started_ms
    executors = _executors(spark, config)
    print(
        f"[stepbricks] SparkSession {spark.version} created in {startup_ms} ms "
        f"(cluster {config.cluster_id}, master {master}, executors {executors}, pid {os.getpid()})",
        file=sys.__stderr__,
        flush=True,
    )
    for note in notes:
        print(f"[stepbricks] WARN cannot honour {note}", file=sys.__stderr__, flush=True)
    _count_start(config, startup_ms)
    return spark, WorkerReady(os.getpid(), spark.version, started_ms, startup_ms, master, executors, notes)


START_LOG = "STEPBRICKS_SPARK_START_LOG"  # a file path: one line per SparkSession a worker builds


def _count_start(config: WorkerConfig, startup_ms: int) -> None:
    """Benchmarks and suite profiles count Spark starts (each a JVM and 10-15 CPU s) without parsing logs."""
    path = os.environ.get(START_LOG)
    if path:
        with open(path, "a") as log:  # one short line per append: whole lines even from parallel workers
            # and the test that caused the start, when pytest ran it (its variable is inherited at spawn)
            log.write(f"{os.getpid()} {config.cluster_id} {startup_ms} {os.environ.get('PYTEST_CURRENT_TEST', '')}\n")


def _refused_conf(spark: Any, conf: dict[str, str]) -> tuple[str, ...]:
    """The conf a Spark Connect server would not let this session set (static or cluster-wide keys).

    The Connect builder sets conf silently (pyspark.sql.connect.session, `_set_all(silent=True)`): ask
    the server which keys are modifiable rather than let a setting vanish."""
    refused = []
    for key in conf:
        try:
            modifiable = spark.conf.isModifiable(key)
        except Exception:  # a key the server does not know is not runtime configuration either
            modifiable = False
        if not modifiable:
            refused.append(f"spark_conf {key}: the Spark Connect server does not let a session change it")
    return tuple(refused)


def _executors(spark: Any, config: WorkerConfig) -> int:
    """Executors registered with the driver (the driver itself not counted); 0 in local mode or on Connect."""
    if config.remote:
        return 0
    try:
        return max(spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1, 0)
    except Exception:
        return 0


def _install_libraries(config: WorkerConfig) -> None:
    if config.warm_engine:  # a long-lived cluster (`stepbricks up`): import MLflow now, its first task comes later
        mlflow_registry.install()
        warmup.warm_libraries()
    else:  # a test's or a job's cluster: only if a task imports MLflow (1.8 s of CPU otherwise spent on nothing)
        mlflow_registry.install_when_imported()


def _import_while_serving(config: WorkerConfig) -> threading.Thread | None:
    """A flight's cluster (`warm_libraries`): import MLflow and scikit-learn beside its first task, not
    before it: imported while the JVM starts, they delayed the cluster's readiness and the ETL with it;
    beside the ETL, whose work is mostly the JVM's, the run came out ahead in 10 of 11 measured pairs
    (docs/performance.md, session 14)."""
    if not config.warm_libraries or config.warm_engine:
        return None
    thread = threading.Thread(target=warmup.warm_libraries, args=(mlflow_registry.STORE_MODULE,),
                              name="ml-libraries", daemon=True)
    thread.start()
    return thread


def _refuse_stop() -> None:
    """A task's `spark.stop()` would break every later task on this cluster: ignore it, and say so."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    def stop(self: Any) -> None:
        print("[stepbricks] spark.stop() ignored: the cluster's SparkSession is shared", file=sys.stderr)

    SparkSession.stop = stop  # type: ignore[method-assign]
    SparkContext.stop = stop  # type: ignore[method-assign]
    try:
        from pyspark.sql.connect.session import SparkSession as ConnectSession
    except ImportError:  # pyspark without the connect extra: no Connect sessions to guard
        return
    ConnectSession.stop = stop  # type: ignore[method-assign]


JVM_EXITED = 70  # the worker's exit code when its Spark driver JVM died under it


def _watch_driver_jvm(spark: Any) -> None:
    """Exit when the driver JVM dies (an OutOfMemoryError kills it: Spark's uncaught-exception handler).

    Without this the worker outlives its JVM and every later attempt fails with `ConnectionRefusedError`
    (found by bench_scale at 5M rows). Exiting makes the cluster RESTARTING, ends the attempts it held
    INTERNAL_ERROR and starts a fresh driver on the next run, as Databricks restarts a lost driver."""
    process = getattr(getattr(spark.sparkContext, "_gateway", None), "proc", None)
    if process is None:
        return

    def watch() -> None:
        code = process.wait()
        print(f"[stepbricks] the Spark driver JVM exited (code {code}): the driver restarts", file=sys.__stderr__,
              flush=True)
        os._exit(JVM_EXITED)

    threading.Thread(target=watch, name="driver-jvm-watch", daemon=True).start()


def _serve(connection: Connection, executor: Executor, send: Callable[[object], None],
           lessee: lease.Lessee | None) -> tuple[bool, Executor]:
    """Run what the manager sends until its connection ends: (idle, executor), idle when it ended with this
    worker released and reset (so another manager may lease it: sim.compute.shared_pool)."""
    idle = False
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return idle, executor
        if isinstance(message, StartTask):
            executor.start(message)
        elif isinstance(message, CancelTask):
            executor.cancel(message)
        elif isinstance(message, Shutdown):
            return False, executor
        elif isinstance(message, Release):
            reason = "not a poolable worker" if lessee is None else executor.busy() or _release(lessee)
            idle = not reason
            try:
                send(Released(not reason, reason))
            except OSError:  # the manager went while this worker reset (its process exited)
                return idle, executor
            if reason:
                return False, executor
        elif isinstance(message, Lease) and lessee is not None:
            idle = False
            try:
                ready = _lease(lessee, message, executor.session)
            except BaseException as failure:
                send(WorkerFailed(errors.one_line(failure), errors.trace(failure)))
                return False, executor
            executor = Executor(lessee.spark, send, ready)
            send(ready)


def _release(lessee: lease.Lessee) -> str:
    try:
        return lessee.release()
    except Exception as failure:  # a session that cannot be reset is not handed to another cluster
        return f"the session could not be reset: {errors.one_line(failure)}"


def _lease(lessee: lease.Lessee, message: Lease, previous: WorkerReady) -> WorkerReady:
    started_ms = clock.now_ms()
    lessee.lease(message.binding)
    reset_ms = clock.now_ms() - started_ms
    print(f"[stepbricks] cluster {message.binding.cluster_id} runs on a warm worker from the process pool "
          f"(pid {os.getpid()}; session reset in {reset_ms} ms)", file=sys.__stderr__, flush=True)
    return replace(previous, session_started_ms=started_ms, session_startup_ms=reset_ms, pooled=True)


def _outlive_manager(config: WorkerConfig) -> Connection | None:
    """An idle worker whose manager went away waits for another process to lease it, when asked to."""
    if not (config.pool_dir and config.pool_key and config.warehouse_dir):
        return None
    scratch = Path(config.warehouse_dir).parent
    print(f"[stepbricks] idle worker {os.getpid()} outlives its process: advertised in {config.pool_dir}",
          file=sys.__stderr__, flush=True)
    return shared_pool.advertise_and_wait(Path(config.pool_dir), config.pool_key, scratch,
                                          config.pool_idle_seconds, config.pool_limit, config.pool_status)


def main() -> int:
    # A task's modules are imported afresh on each run (task_environment), from source: a .pyc this worker
    # wrote on the first run would hide an edit made within the same second (CPython checks a .pyc by the
    # source's whole-second mtime and its size), so the second run would import the old code.
    sys.dont_write_bytecode = True
    host, port = sys.argv[1].rsplit(":", 1)
    authkey = bytes.fromhex(sys.stdin.readline().strip())
    config = WorkerConfig(**json.loads(sys.stdin.readline()))
    manager = [Client((host, int(port)), authkey=authkey)]  # replaced when another process leases this worker
    _no_delay(manager[0])
    send_lock = threading.Lock()

    def send(message: object) -> None:
        with send_lock:
            manager[0].send(message)

    capture.install()
    # MLflow's import costs ~2 s: for a long-lived cluster, done while the JVM starts (_install_libraries).
    registry = threading.Thread(target=_install_libraries, args=(config,), name="mlflow-registry", daemon=True)
    registry.start()
    try:
        spark, ready = _start_spark(config)
    except BaseException as failure:
        send(WorkerFailed(errors.one_line(failure), errors.trace(failure)))
        return 1
    if not config.remote:
        _watch_driver_jvm(spark)
    _refuse_stop()
    registry.join()
    lessee = None
    if config.binding is not None:  # poolable: the simulator's variables come with the binding, after the JVM
        lessee = lease.Lessee(spark, Path(config.warehouse_dir or tempfile.mkdtemp()))
        lessee.bind(Binding(**config.binding))
    else:
        runtime.install(spark, DBUtils(Path(config.dbfs_root)))
        seeded_ids.install()
    # What start-up made (pyspark, py4j, MLflow) out of the collector's walks, and rarer collections: a flight's
    # worker spent 1.10 s collecting, 0.36 s with this (sim/collector.py).
    collector.freeze_start_up()
    collector.collect_rarely()
    send(ready)
    _import_while_serving(config)
    executor = Executor(spark, send, ready)
    while True:
        idle, executor = _serve(manager[0], executor, send, lessee)
        claimed = _outlive_manager(config) if idle else None
        if claimed is None:
            break
        manager[0].close()
        manager[0] = claimed
    if config.warehouse_dir:  # a poolable worker's own scratch: its manager may be gone (killed, or exited
        shutil.rmtree(Path(config.warehouse_dir).parent, ignore_errors=True)  # without atexit) and not remove it
    sys.__stderr__.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Task threads may still run: leave without waiting for them (the JVM exits when our stdin closes).
    os._exit(code)
