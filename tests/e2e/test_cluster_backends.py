"""The reference pipeline flown end to end on each cluster backend, against engines this module starts.

Each engine comes from the installed packages only (`harness.engines`): a Spark standalone master and
one worker (pyspark's `spark-class`), a Spark Connect server (pyspark's `spark-submit` with its connect
jar) and an `mlflow server`, all on 127.0.0.1, each started once per session and only when a test here
needs it. Every flight starts its own simulator pointed at the engine, as `stepbricks up --spark URL
--mlflow URI` does, then checks that the work really went there (the master's applications, the Connect
server's jobs, the tracking server's registry) and that the cluster reads as on Databricks.

`make test-backends` runs this module alone (so CI can give it its own budget); `make test` includes it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.clients import workspace_client
from harness.deploy import DeployConfig, Deployment, deploy
from harness.engines import (
    ConnectServer,
    MlflowServer,
    StandaloneCluster,
    connect_server,
    mlflow_server,
    standalone_cluster,
)
from harness.proctree import descendants
from harness.runner import RunResult, run_pipeline
from harness.views import failure_reason
from sim.data.generator import generate
from sim.simulator import Simulator

# pytest's timeout covers the engine's start (fixture set-up, up to harness.engines.START_TIMEOUT_SECONDS)
# and the flight's patience: remote start-ups are slower than a local cluster's.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.backends, pytest.mark.timeout(1200)]
FLIGHT_SECONDS = 600
ROWS = 2000


@pytest.fixture(scope="session")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    with standalone_cluster(tmp_path_factory.mktemp("spark-standalone"), cores=1, memory="1g") as cluster:
        yield cluster


@pytest.fixture(scope="session")
def connect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    with connect_server(tmp_path_factory.mktemp("spark-connect")) as server:
        yield server


@pytest.fixture(scope="session")
def tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as server:
        yield server


@dataclass
class Flight:
    result: RunResult
    deployment: Deployment
    events: list[dict[str, Any]]
    cluster: dict[str, Any]
    driver_log: str
    seen_in_shared_dir: set[str]


class _Watch:
    """The names that appear under `root` (two levels deep) while the block runs, polled every 0.2 s."""

    def __init__(self, root: Path | None) -> None:
        self.root, self.names = root, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.root is not None and not self._stop.wait(0.2):
            self.names.update(p.name for p in self.root.glob("*/*"))

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _fly(root: Path, *, spark: str | None, mlflow: str | None = None, shared_dir: Path | None = None) -> Flight:
    data = root / "customers.csv"
    generate(data, rows=ROWS, seed=11, fmt="csv", dirty_share=0.02)
    with Simulator.start(state_dir=root / "state", spark=spark, spark_shared_dir=shared_dir,
                         mlflow_tracking_uri=mlflow) as sim:
        env = sim.env
        deployment = deploy(env, DeployConfig(poll_seconds=30))
        with _Watch(shared_dir) as seen:
            result = run_pipeline(env, deployment, data, timeout=FLIGHT_SECONDS)
        w = workspace_client(env)
        events = w.api_client.do("POST", "/api/2.1/clusters/events",
                                 body={"cluster_id": deployment.cluster_id, "order": "ASC"})["events"]
        cluster = w.api_client.do("GET", "/api/2.1/clusters/get", query={"cluster_id": deployment.cluster_id})
        pool = sim.databricks.backend.compute()
        driver_log = pool.get(deployment.cluster_id).log_path.read_text(errors="replace")
        return Flight(result, deployment, events, cluster, driver_log, seen.names)


def _assert_pipeline_succeeded(flight: Flight) -> None:
    result = flight.result
    assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
    etl = result.step_output("etl")
    assert etl["rows_in"] == ROWS
    assert etl["rows_written"] + etl["rows_quarantined"] == ROWS and etl["rows_quarantined"] > 0
    evaluation = result.step_output("evaluate")
    assert evaluation["gate"]["passed"] is True and evaluation["champion_set"] is True
    assert all(r["state"]["result_state"] == "SUCCESS" for r in result.databricks_runs)
    assert {r["job_id"] for r in result.databricks_runs} == set(flight.deployment.jobs.values())


def _starting_message(flight: Flight) -> str:
    types = [e["type"] for e in flight.events]
    assert types[:3] == ["CREATING", "STARTING", "RUNNING"], types
    return flight.events[1]["details"]["driver_state_message"]


def test_standalone_cluster_flies_the_pipeline_on_its_executors(standalone, tmp_path):
    # A shared directory, as executors on other machines need: s3:// data is staged there, not in the
    # cluster's temp dir (on the loopback either would do; this is the path a remote cluster takes).
    shared = tmp_path / "shared"
    flight = _fly(tmp_path, spark=standalone.url, shared_dir=shared)

    _assert_pipeline_succeeded(flight)
    cluster_id = flight.deployment.cluster_id
    # The work ran as an application of the standalone master, named after the cluster, on its executor.
    assert f"stepbricks-{cluster_id}" in standalone.application_names()
    assert flight.cluster["state"] == "RUNNING"
    message = _starting_message(flight)
    assert message.startswith(f"standalone backend ({standalone.url})")
    # The default all-purpose cluster is single-node on Databricks: a standalone app needs an executor.
    assert "cannot honour: num_workers=0 (single node)" in message
    assert flight.events[2]["details"]["current_num_workers"] == 1
    assert f"master {standalone.url}, executors 1" in flight.driver_log
    assert "WARN standalone backend cannot honour num_workers=0" in flight.driver_log
    assert "no shared directory" not in message
    # The tasks staged their s3:// reads and writes there (etl/storage.py's stepbricks-stage-* dirs).
    assert any(name.startswith("stepbricks-stage-") for name in flight.seen_in_shared_dir), flight.seen_in_shared_dir


def test_connect_server_flies_the_pipeline_and_reports_what_it_cannot_honour(connect, tmp_path):
    jobs_before = connect.jobs_run()

    flight = _fly(tmp_path, spark=connect.url)

    _assert_pipeline_succeeded(flight)
    assert connect.jobs_run() > jobs_before  # the queries ran in the Connect server, not in the cluster
    message = _starting_message(flight)
    assert message.startswith(f"connect backend ({connect.url})")
    assert "no SparkContext on Spark Connect" in message
    assert f"master {connect.url}, executors 0" in flight.driver_log  # a client: no executors of its own


def test_mlflow_tracking_server_holds_the_runs_the_registry_and_the_champion_alias(tracking_server, tmp_path):
    flight = _fly(tmp_path, spark=None, mlflow=tracking_server.url)

    _assert_pipeline_succeeded(flight)
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_server.url, registry_uri=tracking_server.url)
    evaluation = flight.result.step_output("evaluate")
    champion = client.get_model_version_by_alias(evaluation["model_name"], "champion")
    assert int(champion.version) == evaluation["model_version"]
    training = flight.result.step_output("train")
    assert client.get_run(training["mlflow_run_id"]).info.status == "FINISHED"
    assert not (tmp_path / "state" / "mlflow").exists()  # nothing went to the simulator's own store


def test_the_tracking_server_starts_no_job_runner_the_pipeline_never_uses(tracking_server):
    # MLflow 3's default (MLFLOW_SERVER_ENABLE_JOB_EXECUTION) forks a huey consumer pool for GenAI jobs.
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in descendants(tracking_server.pid)
                if Path(f"/proc/{pid}/cmdline").exists()]
    assert commands, "the tracking server's process tree is gone"
    assert not [c for c in commands if b"huey" in c or b"_job_runner" in c]
