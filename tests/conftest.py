"""Fixtures shared by the whole suite. One SparkSession per test session (start-up costs 10-25 s)."""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sim import collector
from tests import schedule

# Hermetic: no user config, no real credentials, no network calls for the SDK's config discovery.
os.environ.setdefault("DATABRICKS_CONFIG_FILE", os.devnull)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

POOL_DIR_ENV = "STEPBRICKS_WORKER_POOL_DIR"  # sim.compute.shared_pool.POOL_DIR_ENV, without importing sim here
_POOL_DIR = pytest.StashKey[Path]()

# The seed files (the task descriptions the project was built from) sit beside the repository, not in it.
SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def pytest_configure(config: pytest.Config) -> None:
    """One directory where the session's idle cluster workers outlive their process (sim.compute.shared_pool):
    a test that flies `stepbricks run` in a subprocess leases the worker the last one left instead of
    starting a JVM. Set in the controlling process, before pytest-xdist starts its workers (they inherit it)."""
    if hasattr(config, "workerinput") or os.environ.get(POOL_DIR_ENV):
        return
    directory = tempfile.mkdtemp(prefix="stepbricks-pool-")
    os.environ[POOL_DIR_ENV] = directory
    config.stash[_POOL_DIR] = Path(directory)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Kill what the session's processes left in the directory; removing it ends any still on its way in."""
    directory = config.stash.get(_POOL_DIR, None)
    if directory is None:
        return
    from sim.compute import shared_pool

    shared_pool.sweep(directory)
    shutil.rmtree(directory, ignore_errors=True)
    os.environ.pop(POOL_DIR_ENV, None)


@pytest.fixture
def seed_text() -> Callable[[str], str]:
    """The text of the seed whose file name starts with `number` (e.g. "003"); skips, saying where it
    looked, only when the seeds are not beside this checkout."""

    def read(number: str) -> str:
        found = sorted(SEEDS.glob(f"{number}_*.txt")) if SEEDS.is_dir() else []
        if not found:
            pytest.skip(f"seed {number} not found: no {SEEDS}/{number}_*.txt beside this checkout")
        return found[0].read_text(encoding="utf-8")

    return read


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A small local SparkSession shared by every test that needs one; never stopped between tests.

    Its scratch (spark-*, blockmgr-*, artifacts-*, native libs) goes under pytest's temp dir, which pytest
    rotates, rather than straight into /tmp where every session used to leave some behind.
    """
    from pyspark.sql import SparkSession

    from sim.compute import jvm, local_fs

    scratch = tmp_path_factory.mktemp("spark-scratch")
    # Python UDFs (the evaluation's scoring) run in this environment's interpreter, as on a cluster worker
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # tuned like the simulator's clusters: C1 only, serial GC, the class archive (sim/compute/jvm.py) ...
    builder = SparkSession.builder.config("spark.driver.extraJavaOptions", f"{jvm.options()} -Djava.io.tmpdir={scratch}")
    file_system, classpath = local_fs.launch_settings({"spark.master": "local[1]"})  # ... and their `file:`
    for key, value in file_system.items():
        builder = builder.config(key, value)
    builder = (
        builder.master("local[1]")
        .config("spark.local.dir", str(scratch))
        .appName("stepbricks-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")  # loopback only, like every server of the simulator
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
    )
    # Only this JVM's launch reads the class path: left in os.environ it would reach the clusters this worker
    # starts later and key their pooled workers apart from the other xdist workers' (sim.compute.cluster).
    with pytest.MonkeyPatch.context() as launch_env:
        for key, value in classpath.items():
            launch_env.setenv(key, value)
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One plain fake workspace for every test folder that needs one (tests/sim/databricks, tests/lambdas).

    Its default cluster's Spark start-up is the costly part (13 s idle, 25-40 s on a busy machine), so the
    folders share it rather than each starting its own; tests reset its faults before they run and name
    their jobs and paths apart. `mounted_dir` is the local directory mounted at /Repos/stepbricks.
    A test that must kill, fuzz or reconfigure a workspace starts a private one and says why.
    """
    from sim import context as sim_context
    from sim.databricks import Workspace

    mounted = tmp_path_factory.mktemp("repo")
    # In the process's base context (real time), not in that of a simulator that happens to run when the
    # first test needs it: that one stops long before the session does, and may keep time virtually.
    with sim_context.bind(sim_context.base()), \
            Workspace.start(state_dir=tmp_path_factory.mktemp("workspace"), mounts={"/Repos/stepbricks": mounted}) as ws:
        ws.mounted_dir = mounted  # type: ignore[attr-defined]
        yield ws


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fewer, cheaper cyclic collections in the test processes, whose heaps hold moto, botocore, FastAPI and
    every test module: what exists after collection is frozen (never traversed again), and a collection runs
    after 10,000 new container objects instead of 700. In one process, tests/sim/aws/sfn's collections took 3.6-4.4
    CPU s (15-20 full ones of ~190 ms) and 1.2 s with this; tests/sim/databricks's 1.4-1.5 s and 0.5-0.6 s, its
    process 17.1-18.5 CPU s and 15.4-16.1 s (alternated; docs/performance.md, "Session 22"). Only the test
    processes of this suite (sim/collector.py): a user's pytest process keeps Python's defaults."""
    gc.collect()
    collector.freeze_start_up()
    collector.collect_rarely()
    collector.freeze_at_exit()  # the interpreter's last collection would walk everything the tests left alive


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks `schedule.order` adds
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the session simulator run last, together; costly set-ups and tests first (tests/schedule.py).

    moto's in-process `mock_aws` (used by Lambda unit tests) resets moto's process-global backends when it
    stops — the same backends the session simulator's server serves — so a deployment made earlier in the
    session would vanish under the tests that come after it.
    """
    on_simulator = [item for item in items if "stepbricks" in getattr(item, "fixturenames", ())]
    items[:] = schedule.order(items, on_simulator)
    schedule.name_groups_for_xdist(config, items)
    # The on-demand reliability runs (random experiment plans, the load test: 69 s of flights on a warm session
    # in session 18, more with STEPBRICKS_EXPERIMENT_PLANS / STEPBRICKS_LOAD_FILES): `make test-full`
    # (STEPBRICKS_FULL=1) runs them; `make test` says why they were skipped.
    if not os.environ.get("STEPBRICKS_FULL"):
        on_demand = pytest.mark.skip(reason="on-demand reliability run (~70 s of flights): make test-full runs it")
        for item in items:
            path = str(item.path)
            if item.get_closest_marker("slow") and ("tests/reliability/test_experiments.py" in path
                                                    or "tests/reliability/test_load.py" in path):
                item.add_marker(on_demand)


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef, request: pytest.FixtureRequest) -> None:
    """The session simulator starts only for a test that declares it: the schedule orders tests by their
    declared fixtures, so one fetched by name (`request.getfixturevalue`) started it early on some worker,
    and a later `mock_aws` test reset moto's backends under its deployment."""
    if fixturedef.argname != "stepbricks":
        return
    item = getattr(request, "_pyfuncitem", None)
    if item is not None and "stepbricks" not in item.fixturenames:
        pytest.fail(f"{item.nodeid} fetches the session simulator without declaring `stepbricks` (or a fixture "
                    "that needs it): declare it, so tests/schedule.py runs it after the mock_aws tests")
