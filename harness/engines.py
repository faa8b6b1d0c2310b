"""Real engines on the loopback, started from what the installed packages ship (tests, bench, demos).

- a Spark standalone cluster: pyspark's `bin/spark-class` running `deploy.master.Master` and one
  `deploy.worker.Worker` (1 core, 1 GB by default: these machines are shared);
- a Spark Connect server: `bin/spark-submit --class …SparkConnectServer` with the connect jar pyspark
  ships (`jars/spark-connect_2.13-*.jar`), bound to 127.0.0.1;
- an MLflow tracking server: `mlflow server` on a SQLite store, artifacts served by the server.

Each is a context manager that starts the engine, waits until it answers, and kills its whole process
group on exit. Logs go to files in the directory given; a start-up failure raises with the log's tail.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.ports import free_port, free_ports
from sim import mlflow_store
from sim.compute import jvm

START_TIMEOUT_SECONDS = 240.0  # JVM start-ups take 15-25 s alone; much more when the machine is busy


class EngineError(RuntimeError):
    """An engine did not come up; the message carries the tail of its log."""


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@dataclass(frozen=True)
class StandaloneCluster:
    url: str  # spark://127.0.0.1:P, what `--spark` takes
    ui: str  # the master's web UI; `/json/` lists workers and applications

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.ui}/json/", timeout=10) as response:
            return json.load(response)

    def application_names(self) -> list[str]:
        state = self.state()
        return [app["name"] for app in [*state.get("activeapps", []), *state.get("completedapps", [])]]


@dataclass(frozen=True)
class ConnectServer:
    url: str  # sc://127.0.0.1:P
    ui: str  # the server's Spark UI; `/api/v1/applications/<id>/jobs` lists the jobs it ran

    def jobs_run(self) -> int:
        with urllib.request.urlopen(f"{self.ui}/api/v1/applications", timeout=10) as response:
            app_id = json.load(response)[0]["id"]
        with urllib.request.urlopen(f"{self.ui}/api/v1/applications/{app_id}/jobs", timeout=10) as response:
            return len(json.load(response))


@dataclass(frozen=True)
class MlflowServer:
    url: str  # http://127.0.0.1:P, what MLFLOW_TRACKING_URI takes
    pid: int = 0  # the `mlflow server` process (its group holds uvicorn and any job runner)


def _spark_env(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(work / "worker"),  # else the worker writes into the installed package
        "SPARK_LOG_DIR": str(work / "logs"),
        "PYSPARK_PYTHON": sys.executable,  # executors' Python workers: this environment's interpreter
        # the master's and worker's JVMs, tuned like the simulator's drivers (sim/compute/jvm.py)
        "SPARK_DAEMON_JAVA_OPTS": " ".join(filter(None, [jvm.options(), os.environ.get("SPARK_DAEMON_JAVA_OPTS")])),
    }


@contextmanager
def _process(argv: list[str], log: Path, env: dict[str, str], ready: Callable[[], bool], what: str,
             timeout: float = START_TIMEOUT_SECONDS) -> Iterator[subprocess.Popen[bytes]]:
    """Start `argv` in its own process group, wait for `ready()`, kill the group on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   cwd=log.parent, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _safe(ready):
            if process.poll() is not None:
                raise EngineError(f"{what} exited with {process.returncode}: {_tail(log)}")
            if time.monotonic() > deadline:
                raise EngineError(f"{what} did not answer within {timeout:g} s: {_tail(log)}")
            time.sleep(0.5)
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except (OSError, ValueError, KeyError, IndexError):
        return False


def _tail(log: Path, size: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@contextmanager
def standalone_cluster(work: Path, *, cores: int = 1, memory: str = "1g") -> Iterator[StandaloneCluster]:
    """A master and one worker from pyspark's distribution, on 127.0.0.1 (ready ≈ 15 s when idle)."""
    work.mkdir(parents=True, exist_ok=True)
    env = {**_spark_env(work), "SPARK_DAEMON_MEMORY": "256m"}  # master and worker daemons, not the executors
    spark_class = str(spark_home() / "bin" / "spark-class")
    port, ui_port, worker_ui = free_ports(3)
    cluster = StandaloneCluster(url=f"spark://127.0.0.1:{port}", ui=f"http://127.0.0.1:{ui_port}")
    with ExitStack() as stack:
        stack.enter_context(_process(
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(ui_port)],
            work / "master.log", env, lambda: cluster.state()["status"] == "ALIVE", "the Spark standalone master"))
        stack.enter_context(_process(
            [spark_class, "org.apache.spark.deploy.worker.Worker", cluster.url, "--host", "127.0.0.1",
             "--cores", str(cores), "--memory", memory, "--webui-port", str(worker_ui),
             "--work-dir", str(work / "worker")],
            work / "worker.log", env, lambda: cluster.state()["aliveworkers"] >= 1, "the Spark standalone worker"))
        yield cluster


@contextmanager
def connect_server(work: Path, *, driver_memory: str = "1g") -> Iterator[ConnectServer]:
    """A Spark Connect server (`local[1]` inside) on 127.0.0.1 (ready ≈ 25 s when idle)."""
    work.mkdir(parents=True, exist_ok=True)
    env = _spark_env(work)
    port, ui_port = free_ports(2)
    server = ConnectServer(url=f"sc://127.0.0.1:{port}", ui=f"http://127.0.0.1:{ui_port}")
    argv = [
        str(spark_home() / "bin" / "spark-submit"),
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--name", "stepbricks-connect-server",
        "--master", "local[1]",
        "--driver-memory", driver_memory,
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", f"spark.ui.port={ui_port}",
        "--conf", "spark.sql.shuffle.partitions=2",
        "--conf", f"spark.local.dir={work / 'scratch'}",
        "--conf", f"spark.sql.warehouse.dir={work / 'warehouse'}",
        "--conf", f"spark.driver.extraJavaOptions={jvm.options()} -Djava.io.tmpdir={work / 'scratch'}",
        "spark-internal",
    ]
    (work / "scratch").mkdir(exist_ok=True)

    def answering() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return bool(_get_json(f"{server.ui}/api/v1/applications"))

    with _process(argv, work / "connect-server.log", env, answering, "the Spark Connect server"):
        yield server


@contextmanager
def mlflow_server(work: Path) -> Iterator[MlflowServer]:
    """`mlflow server` on a SQLite store in `work`, serving artifacts from `work/artifacts`."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = MlflowServer(url=f"http://127.0.0.1:{port}")
    store = f"sqlite:///{work / 'mlflow.db'}"
    argv = [
        str(Path(sys.executable).parent / "mlflow"), "server",
        "--backend-store-uri", store,
        "--artifacts-destination", str(work / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]

    def healthy() -> bool:
        with urllib.request.urlopen(f"{server.url}/health", timeout=5) as response:
            return response.status == 200

    # MLflow 3 starts a huey job runner with eight consumers by default, for server-side GenAI jobs (judges,
    # trace roll-ups) the pipeline never submits: ~30 CPU s per start on two cores (bench/tree_cpu.py).
    env = {**os.environ}
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    env.update(mlflow_store.client_env(store))  # its request threads share one engine, as a cluster's tasks do
    with _process(argv, work / "mlflow-server.log", env, healthy, "the MLflow tracking server") as process:
        yield MlflowServer(url=server.url, pid=process.pid)
