"""The process's pool of warm cluster workers (`sim.compute.pool`), as Databricks instance pools: a cluster
that terminates idle gives its worker back, the next compatible cluster in the process starts on it in
milliseconds, and nothing of the first simulator's (endpoints, files, Spark conf, views, tables, MLflow
state) reaches the second."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from compute_support import finished, invocation

from sim.compute import ClusterManager
from sim.compute.backends.connect import ConnectBackend
from sim.compute.cluster import LocalCluster
from sim.compute.pool import WarmPool, WorkerProcess

ROOT = Path(__file__).resolve().parents[3]

FIRST = """\
import json, os, mlflow
spark.range(5).createOrReplaceTempView("a_view")
spark.range(5).createOrReplaceGlobalTempView("a_global_view")
spark.conf.set("spark.sql.shuffle.partitions", "7")
spark.conf.set("stepbricks.mark", "first")
spark.sql("CREATE DATABASE first_db")
spark.range(3).write.saveAsTable("first_db.t")
spark.range(3).write.saveAsTable("a_table")
spark.table("a_table").cache().count()
spark.udf.register("first_udf", lambda x: x)
spark.sparkContext._jsc.hadoopConfiguration().set("stepbricks.mark", "first")
mlflow.set_tracking_uri("sqlite:///" + os.path.join(os.getcwd(), "first-elsewhere.db"))
dbutils.notebook.exit(json.dumps({"host": os.environ["DATABRICKS_HOST"], "pid": os.getpid()}))
"""

SECOND = """\
import json, os, tempfile, mlflow
tables = [(t.name, t.database) for t in spark.catalog.listTables()]
seen = {
    "host": os.environ["DATABRICKS_HOST"],
    "pid": os.getpid(),
    "tables": tables,
    "global_views": [t.name for t in spark.catalog.listTables("global_temp")],
    "databases": sorted(d.name for d in spark.catalog.listDatabases()),
    "partitions": spark.conf.get("spark.sql.shuffle.partitions"),
    "mark": spark.conf.get("stepbricks.mark", None),
    "hadoop_mark": spark.sparkContext._jsc.hadoopConfiguration().get("stepbricks.mark"),
    "udfs": [r[0] for r in spark.sql("SHOW USER FUNCTIONS").collect()],
    "cached": spark.sparkContext._jsc.sc().getPersistentRDDs().size(),
    "tracking_uri": mlflow.get_tracking_uri(),
    "cwd": os.getcwd(),
    "tmp": tempfile.gettempdir(),
    "jvm_host": spark.sparkContext._jvm.java.lang.System.getenv("DATABRICKS_HOST"),
    "arrow_udf_host": spark.range(1).mapInPandas(
        lambda frames: (f.assign(id=len(__import__("os").environ.get("DATABRICKS_HOST", ""))) for f in frames),
        "id long").first()[0],
    "udf_host": spark.range(1).rdd.map(lambda _: __import__("os").environ.get("DATABRICKS_HOST")).first(),
    "relative": spark.range(2).write.parquet("relative-out") or os.path.isdir("relative-out"),
}
dbutils.notebook.exit(json.dumps(seen))
"""


def _env(name: str, tmp: Path) -> dict[str, str]:
    return {"DATABRICKS_HOST": f"http://{name}.invalid", "DATABRICKS_TOKEN": name,
            "DATABRICKS_CONFIG_FILE": os.devnull, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / name}.db"}


def _notebook(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.py"
    path.write_text("# Databricks notebook source\n" + text)
    return path


def _idle_pids(pool: WarmPool, at_least: int = 1, timeout: float = 60) -> list[int]:
    """The pool's idle workers once `at_least` are there: a terminated cluster's worker resets in the
    background (0.3-2 s) before it goes back."""
    deadline = time.monotonic() + timeout
    while len(pool.idle()) < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
    return [worker.pid for worker in pool.idle()]


@pytest.fixture(scope="module")
def pool() -> Iterator[WarmPool]:
    warm = WarmPool(size=1, idle_seconds=600)
    yield warm
    warm.clear()


@pytest.fixture(scope="module")
def two_workspaces(pool: WarmPool, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Workspace A runs a notebook that leaves every kind of state behind and shuts down; workspace B, in
    the same process, then runs a notebook that looks for it."""
    tmp = tmp_path_factory.mktemp("pool")
    with ClusterManager(tmp / "a", _env("first", tmp), worker_pool=pool) as first:
        a = first.get(first.default_cluster_id())
        a_call = invocation(kind="notebook", source_path=_notebook(tmp, "first", FIRST))
        a_result = finished(a.run(a_call))
    idle_after_a = _idle_pids(pool)
    with ClusterManager(tmp / "b", _env("second", tmp), worker_pool=pool) as second:
        b = second.get(second.default_cluster_id())
        b_call = invocation(kind="notebook", source_path=_notebook(tmp, "second", SECOND))
        b_result = finished(b.run(b_call))
        b_session, b_events = b.session, [e["type"] for e in b.events]
    return {"a": a, "b": b, "a_result": a_result, "b_result": b_result, "idle_after_a": idle_after_a,
            "b_session": b_session, "b_events": b_events, "a_run": a_call.run_id, "b_run": b_call.run_id}


def test_a_second_workspace_in_the_process_starts_on_the_first_ones_warm_worker(two_workspaces):
    a_result, b_result = two_workspaces["a_result"], two_workspaces["b_result"]
    assert (a_result.outcome, b_result.outcome) == ("SUCCESS", "SUCCESS"), (a_result.error, b_result.error_trace)
    a_pid = json.loads(a_result.notebook_result)["pid"]
    assert two_workspaces["idle_after_a"] == [a_pid]  # A's worker idled in the pool…
    assert json.loads(b_result.notebook_result)["pid"] == a_pid  # …and B's cluster runs on it
    session = two_workspaces["b_session"]
    assert session.pooled and session.session_startup_ms < a_result.spark_startup_ms
    assert not b_result.spark_session_reused  # a new session for the new cluster, not A's
    assert two_workspaces["b_events"][:3] == ["CREATING", "STARTING", "RUNNING"]  # as an instance-pool start
    a_log, b_log = two_workspaces["a"].log_path.read_text(), two_workspaces["b"].log_path.read_text()
    assert "runs on a warm worker from the process pool" in b_log
    # One worker, two driver logs: each cluster's log has its own attempts only.
    assert f"run {two_workspaces['b_run']} " in b_log and f"run {two_workspaces['b_run']} " not in a_log
    assert f"run {two_workspaces['a_run']} " in a_log and f"run {two_workspaces['a_run']} " not in b_log


def test_nothing_the_first_simulator_left_in_the_worker_reaches_the_second(two_workspaces):
    seen = json.loads(two_workspaces["b_result"].notebook_result)
    b_cluster: LocalCluster = two_workspaces["b"]
    assert seen["host"] == "http://second.invalid"
    assert (seen["tables"], seen["global_views"], seen["databases"]) == ([], [], ["default"])
    assert (seen["partitions"], seen["mark"], seen["hadoop_mark"]) == ("2", None, None)
    assert seen["udfs"] == [] and seen["cached"] == 0
    assert seen["tracking_uri"].endswith("second.db")  # B's, not the URI A's notebook set
    assert Path(seen["cwd"]).resolve() == b_cluster.directory.resolve()
    assert Path(seen["tmp"]).resolve().parent == b_cluster.directory.resolve()
    assert seen["relative"] and (b_cluster.directory / "relative-out").is_dir()  # relative paths: B's directory
    # The JVM never held a simulator's variables; Spark's Python workers (plain and Arrow) get the current
    # cluster's, through the file their worker module reads at each task (dbruntime_shim/pyspark_stepbricks_worker.py).
    assert seen["jvm_host"] is None
    assert seen["udf_host"] == "http://second.invalid"
    assert seen["arrow_udf_host"] == len("http://second.invalid")


UDF_RUN = """\
import json, os, time
import pandas as pd
def version(frames):
    import sys
    sys.path.insert(0, os.environ["UDF_DIR"])
    import udf_version  # a project module: imported afresh by the next cluster, never the last one's
    for frame in frames:
        yield frame.assign(id=udf_version.VERSION, pid=os.getppid())  # UDF workers are forks of PySpark's daemon
started = time.perf_counter()
row = spark.range(1).mapInPandas(version, "id long, pid long").collect()[0]  # consumed whole: the worker is reused
dbutils.notebook.exit(json.dumps({"version": row.id, "daemon_pid": row.pid, "seconds": time.perf_counter() - started,
                                  "host": os.environ["DATABRICKS_HOST"]}))
"""


def test_the_next_cluster_s_udfs_run_on_the_warm_python_workers_and_import_edited_modules_afresh(pool: WarmPool,
                                                                                                 tmp_path):
    """A lease's variables reach the UDF workers without a new PySpark daemon (whose first UDF imported
    pandas and pyarrow again: 3.5-4 s), and a project module a UDF imported is dropped between clusters."""
    udf_dir = tmp_path / "udfs"
    udf_dir.mkdir()
    seen = []
    for name, version in (("first", 1), ("second", 2)):
        (udf_dir / "udf_version.py").write_text(f"VERSION = {version}\n")
        env = {**_env(name, tmp_path), "UDF_DIR": str(udf_dir)}
        with ClusterManager(tmp_path / name, env, worker_pool=pool) as manager:
            cluster = manager.get(manager.default_cluster_id())
            result = finished(cluster.run(invocation(kind="notebook", source_path=_notebook(tmp_path, name, UDF_RUN))))
            assert result.outcome == "SUCCESS", result.error_trace
            seen.append(json.loads(result.notebook_result))
        _idle_pids(pool)
    first, second = seen
    assert (first["version"], second["version"]) == (1, 2), "the edited module is imported afresh"
    assert second["host"] == "http://second.invalid"
    assert second["daemon_pid"] == first["daemon_pid"], "the second cluster's UDF ran on the first one's PySpark daemon"


def test_a_cluster_with_other_spark_conf_does_not_take_the_idle_worker(pool: WarmPool, two_workspaces, tmp_path):
    idle = _idle_pids(pool)
    assert idle  # B's worker went back to the pool
    spec = {"spark_conf": {"spark.sql.shuffle.partitions": "3"}}
    with ClusterManager(tmp_path, _env("third", tmp_path), default_spec=spec, worker_pool=pool) as third:
        cluster = third.get(third.default_cluster_id())
        result = finished(cluster.run(invocation(kind="notebook", source_path=_notebook(
            tmp_path, "third", "import os\ndbutils.notebook.exit(str(os.getpid()))\n"))))
        assert result.outcome == "SUCCESS" and int(result.notebook_result) not in idle
        assert not cluster.session.pooled


def test_only_local_backend_clusters_are_pooled(tmp_path):
    cluster = LocalCluster("c1", {}, state_dir=tmp_path, base_env={}, backend=ConnectBackend("sc://127.0.0.1:1"),
                           worker_pool=WarmPool(size=1, idle_seconds=60))
    assert cluster._launch().key is None  # a Spark Connect client's session lives on the server: never pooled


@pytest.mark.parametrize("knob", ["STEPBRICKS_SPARK_JVM_OPTIONS", "STEPBRICKS_SPARK_CDS", "STEPBRICKS_NIO_LOCAL_FS"])
def test_the_simulators_jvm_knobs_reach_the_worker_and_a_worker_started_under_others_is_not_leased(
        tmp_path, monkeypatch, knob):
    """The worker reads them when it starts its JVM (sim.compute.jvm, sim.compute.local_fs); they were once
    left to the per-lease environment, which a worker only sees after its JVM is up, so they did nothing."""
    def launch():
        return LocalCluster("c1", {}, state_dir=tmp_path, base_env={},
                            worker_pool=WarmPool(size=1, idle_seconds=60))._launch()

    monkeypatch.setenv(knob, "0")
    first = launch()
    monkeypatch.setenv(knob, "-XX:+UseSerialGC" if knob.endswith("OPTIONS") else "1")
    second = launch()
    assert first.env[knob] == "0" and first.key is not None
    assert knob not in (first.config.binding or {}).get("env", {})
    assert second.key != first.key


def test_a_worker_that_died_idle_is_never_handed_out(pool: WarmPool, two_workspaces, tmp_path):
    assert _idle_pids(pool)
    idle = pool.idle()
    os.killpg(os.getpgid(idle[-1].pid), signal.SIGKILL)  # the worker this module's pool started (its group: keeper too)
    idle[-1].process.wait()
    with ClusterManager(tmp_path, _env("fourth", tmp_path), worker_pool=pool) as fourth:
        cluster = fourth.get(fourth.default_cluster_id())
        result = finished(cluster.run(invocation(kind="notebook", source_path=_notebook(
            tmp_path, "fourth", "import os\ndbutils.notebook.exit(str(os.getpid()))\n"))))
        assert (result.outcome, result.error) == ("SUCCESS", None)
        assert int(result.notebook_result) != idle[-1].pid and not cluster.session.pooled
    assert idle[-1].scratch is not None and not idle[-1].scratch.exists()  # dropped with its scratch


def test_a_crashed_worker_never_goes_back_to_the_pool(tmp_path):
    pool = WarmPool(size=1, idle_seconds=600)
    try:
        with ClusterManager(tmp_path, _env("fifth", tmp_path), worker_pool=pool) as fifth:
            cluster = fifth.get(fifth.default_cluster_id())
            result = finished(cluster.run(invocation(kind="notebook", source_path=_notebook(
                tmp_path, "crash", "import os\nos._exit(3)\n"))))
            assert result.outcome == "INTERNAL_ERROR"
        assert pool.idle() == []
    finally:
        pool.clear()


PID_AND_WARMTH = "import os, sys\ndbutils.notebook.exit(f\"{os.getpid()} {'sklearn.ensemble' in sys.modules}\")\n"


def test_a_cluster_whose_worker_died_restarts_next_time_on_a_warm_standby(tmp_path):
    """Instance pools' idle instances: once a cluster that asked for a standby has lost its worker, a second
    worker starts in the background with its engine and ML libraries warm, and the next restart leases it
    instead of starting a JVM. A cluster whose worker never died starts none."""
    pool = WarmPool(size=1, idle_seconds=600)
    try:
        with ClusterManager(tmp_path, _env("standby", tmp_path), worker_pool=pool) as manager:
            cluster = manager.get(manager.default_cluster_id())
            cluster.standby = True
            crash = invocation(kind="notebook", source_path=_notebook(tmp_path, "crash", "import os\nos._exit(3)\n"))
            probe = _notebook(tmp_path, "probe", PID_AND_WARMTH)
            assert finished(cluster.run(crash)).outcome == "INTERNAL_ERROR"
            assert pool.standbys_started == 0  # its first worker never died before it was RUNNING

            cold = finished(cluster.run(invocation(kind="notebook", source_path=probe)))
            cold_pid, cold_warm = cold.notebook_result.split()
            assert (cold.outcome, cold_warm, cluster.session.pooled) == ("SUCCESS", "False", False)
            assert pool.standbys_started == 1  # the restart started one behind it
            standby = _idle_pids(pool, timeout=240)  # a JVM start and the engine warm-up: 10-80 s under load
            assert len(standby) == 1 and str(standby[0]) != cold_pid

            cluster.standby = False  # this spec needs no standby after the next one
            assert finished(cluster.run(crash)).outcome == "INTERNAL_ERROR"
            warm = finished(cluster.run(invocation(kind="notebook", source_path=probe)))
            assert (warm.outcome, warm.notebook_result) == ("SUCCESS", f"{standby[0]} True")  # engine and libraries warm
            assert cluster.session.pooled and pool.leased == 1 and cluster.restarts == 2
            assert "runs on a warm worker from the process pool" in cluster.log_path.read_text()
    finally:
        pool.clear()


# --- the pool itself, on plain processes ---------------------------------------------------------------

def _sleeper(key: str | None = "k") -> WorkerProcess:
    process = subprocess.Popen(["sleep", "600"], stdout=subprocess.PIPE, start_new_session=True)
    worker = WorkerProcess(process, key=key)
    worker.pump_output()
    return worker


def test_the_pool_keeps_at_most_its_size_and_kills_the_oldest():
    pool = WarmPool(size=1, idle_seconds=600)
    old, new = _sleeper(), _sleeper()
    pool.give(old)
    pool.give(new)
    assert pool.idle() == [new] and old.process.poll() is not None
    pool.clear()
    assert new.process.poll() is not None


def test_the_pool_hands_out_only_a_live_worker_with_the_same_key():
    pool = WarmPool(size=2, idle_seconds=600)
    dead, other = _sleeper(), _sleeper(key="other")
    pool.give(dead)
    pool.give(other)
    os.killpg(dead.pid, signal.SIGKILL)
    dead.process.wait()
    assert pool.take("k") is None  # the dead one is dropped, the other key is not a match
    assert pool.idle() == [other] and pool.take("other") is other
    other.kill()


def test_a_starting_cluster_waits_for_a_compatible_worker_still_on_its_way_back():
    pool = WarmPool(size=1, idle_seconds=600)
    worker, other = _sleeper(), _sleeper(key="other")
    pool.expect(worker)  # its cluster terminated; it is resetting
    pool.expect(other)
    threading.Timer(0.3, pool.give, (worker,)).start()
    started = time.monotonic()
    assert pool.take("other-key", wait=5) is None and time.monotonic() - started < 1  # nothing coming: no wait
    assert pool.take("k", wait=5) is worker
    pool.forget(other)  # its reset failed: a cluster waiting for it starts its own at once
    started = time.monotonic()
    assert pool.take("other", wait=5) is None and time.monotonic() - started < 1
    worker.kill()
    other.kill()


def test_an_idle_worker_is_killed_after_the_idle_timeout():
    pool = WarmPool(size=1, idle_seconds=0.2)
    worker = _sleeper()
    pool.give(worker)
    worker.process.wait(timeout=10)
    assert pool.idle() == []


def test_a_pool_of_size_zero_keeps_nothing():
    pool = WarmPool(size=0, idle_seconds=600)
    worker = _sleeper()
    pool.give(worker)
    assert pool.idle() == [] and worker.process.poll() is not None


def test_a_standby_is_started_once_per_key_and_not_beside_an_idle_compatible_worker():
    pool = WarmPool(size=1, idle_seconds=600)
    assert pool.claim_standby("k") and not pool.claim_standby("k")  # one already starting
    assert pool.claim_standby("other")
    pool.standby_failed("k", None)
    idle = _sleeper()
    pool.give(idle)
    assert not pool.claim_standby("k")  # a compatible worker is idle already
    assert not WarmPool(size=0, idle_seconds=600).claim_standby("k")  # pooling off: nowhere to keep it
    pool.clear()


def _starting_standby(pool: WarmPool, key: str = "k") -> WorkerProcess:
    """A standby the pool counts as starting for `key` (a sleeping process stands in for the worker)."""
    assert pool.claim_standby(key)
    standby = _sleeper(key)
    pool.standby_started(key, standby)
    return standby


def test_a_restart_waits_for_a_standby_still_warming_and_leases_it():
    pool = WarmPool(size=1, idle_seconds=600)
    standby = _starting_standby(pool)
    threading.Timer(0.3, pool.standby_ready, ("k", standby)).start()
    assert pool.take("k", wait=5) is standby
    assert pool.claim_standby("k")  # leased: the next one may start
    standby.kill()


def test_a_standby_that_fails_frees_its_key_and_wakes_a_waiting_restart_at_once():
    pool = WarmPool(size=1, idle_seconds=600)
    standby = _starting_standby(pool)
    threading.Timer(0.3, pool.standby_failed, ("k", standby)).start()
    started = time.monotonic()
    assert pool.take("k", wait=10) is None and time.monotonic() - started < 3
    assert standby.process.wait(timeout=10) is not None and pool.claim_standby("k")


def test_clearing_the_pool_kills_a_standby_still_starting():
    pool = WarmPool(size=1, idle_seconds=600)
    standby = _starting_standby(pool)
    pool.clear()
    assert standby.process.wait(timeout=10) is not None


EXITING = textwrap.dedent("""\
    import json, os, sys, tempfile
    from pathlib import Path
    from sim.compute import ClusterManager, TaskInvocation
    state = Path(tempfile.mkdtemp())
    notebook = state / "nb.py"
    notebook.write_text("# Databricks notebook source\\nimport os, json\\n"
                        "dbutils.notebook.exit(json.dumps([os.getpid(), spark.sparkContext._gateway.proc.pid, "
                        "spark.sparkContext.getConf().get('spark.local.dir')]))\\n")
    with ClusterManager(state / "ws", {"DATABRICKS_CONFIG_FILE": os.devnull}) as manager:
        cluster = manager.get(manager.default_cluster_id())
        result = cluster.run(TaskInvocation(run_id=1, task_key="t", attempt_number=0, kind="notebook",
                                            source_path=notebook)).wait(300)
    print(result.notebook_result, flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), 9)
""")


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_no_worker_or_jvm_outlives_the_process(tmp_path, how):
    """The worker idles in the pool when the process ends: killed at exit, and gone by itself (its manager
    connection closed) when the process is killed outright; its scratch directory goes with it."""
    script = tmp_path / "exiting.py"
    script.write_text(EXITING)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STEPBRICKS_WORKER_POOL": "1"}
    env.pop("STEPBRICKS_WORKER_POOL_DIR", None)  # no directory to outlive it in (tests/sim/compute/test_shared_pool.py)
    done = subprocess.run([sys.executable, str(script), how], env=env, capture_output=True, text=True, timeout=400)
    *pids, scratch = json.loads(done.stdout.strip().splitlines()[-1])
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in pids) or Path(scratch).exists():
        assert time.monotonic() < deadline, f"still there after the process ended: {pids}, {scratch}"
        time.sleep(0.2)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
