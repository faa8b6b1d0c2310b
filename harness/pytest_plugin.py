"""stepbricks' pytest plugin (registered through the `pytest11` entry point).

Thin and session-warm, like pytest-httpserver: the costly simulator (moto, fake workspace, Spark cluster)
starts once per test session; per-test fixtures only reset faults. Tests use the same fixtures whatever
the backend (harness/backends.py): `embedded` (the in-process simulator), `external` (endpoints from the
environment) or `docker` (docker-compose.yml through pytest-docker, then as `external`). A test that needs
what only the simulator offers is marked `simulator_only` or calls `stepbricks.require_simulator(...)`:
elsewhere it is skipped with the reason, never silently passed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.backends import BACKENDS, BackendError, docker_stack, external_env


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stepbricks")
    group.addoption(
        "--stepbricks-backend",
        choices=BACKENDS,
        default=os.environ.get("STEPBRICKS_BACKEND", "embedded"),
        help="embedded: start the simulator in-process (default); external: use the endpoints in the "
        "environment (AWS_ENDPOINT_URL, DATABRICKS_HOST/TOKEN, MLFLOW_*), e.g. another `stepbricks up`; "
        "docker: bring docker-compose.yml up through pytest-docker, then run as external.",
    )
    group.addoption(
        "--stepbricks-compose-command",
        default=os.environ.get("STEPBRICKS_COMPOSE_COMMAND", "docker compose"),
        help="The Docker Compose command of the docker backend (e.g. docker-compose, podman compose).",
    )
    group.addoption(
        "--stepbricks-keep-stack",
        action="store_true",
        help="docker backend: leave the compose stack running after the session (no `down -v`).",
    )
    group.addoption(
        "--stepbricks-spark",
        default=os.environ.get("STEPBRICKS_SPARK") or None,
        metavar="URL",
        help="embedded backend: where the workspace's clusters run their Spark work: local (default), "
        "spark://host:port (a standalone master) or sc://host:port (a Spark Connect server). Default: STEPBRICKS_SPARK.",
    )
    group.addoption(
        "--stepbricks-mlflow",
        default=os.environ.get("STEPBRICKS_MLFLOW") or None,
        metavar="URI",
        help="embedded backend: an existing MLflow tracking server (http://host:port) instead of the simulator's "
        "SQLite store. Default: STEPBRICKS_MLFLOW.",
    )
    group.addoption(
        "--seed",
        dest="stepbricks_seed",
        type=int,
        default=int(os.environ.get("STEPBRICKS_SEED", "0")),
        help="Seed of the embedded simulator's ids (execution names, run and request ids, task tokens).",
    )
    group.addoption(
        "--stepbricks-enforce-iam",
        action="store_true",
        default=os.environ.get("STEPBRICKS_ENFORCE_IAM", "") not in ("", "0"),
        help="embedded backend: evaluate IAM policies (Lambdas and state machines run with their roles' "
        "credentials; a missing permission fails with AWS's AccessDenied). docs/iam.md.",
    )
    group.addoption("--asl-cov", action="store_true", help="Report which states and edges of each state machine ran.")
    group.addoption("--asl-cov-json", metavar="PATH", help="Also write the state machine coverage as JSON here.")
    group.addoption(
        "--asl-cov-fail-under",
        type=float,
        metavar="PERCENT",
        help="Fail the session when total edge coverage of the state machines is under PERCENT (implies --asl-cov).",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in (
        "e2e: flies the whole pipeline through the simulator",
        "simulator_only(feature): needs a feature only the embedded simulator offers (virtual clock, fault "
        "plans on AWS services, the SNS outbox); skipped with the reason on the external and docker backends",
    ):
        config.addinivalue_line("markers", marker)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`simulator_only` tests are skipped, with what they need, when no simulator runs in-process."""
    backend = config.getoption("--stepbricks-backend")
    if backend == "embedded":
        return
    for item in items:
        marker = item.get_closest_marker("simulator_only")
        if marker is not None:
            feature = marker.args[0] if marker.args else marker.kwargs.get("feature", "this test")
            item.add_marker(pytest.mark.skip(reason=_needs_simulator(feature, backend)))


def _needs_simulator(feature: str, backend: str) -> str:
    return f"{feature} needs the embedded simulator; backend is {backend}"


@dataclass
class StepbricksSession:
    """What a test gets: the backend's environment and, when embedded, the simulator itself."""

    backend: str
    env: dict[str, str]
    simulator: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        from harness.clients import aws_client

        if service not in self._clients:
            self._clients[service] = aws_client(service, self.env)
        return self._clients[service]

    def workspace(self) -> Any:
        from harness.clients import workspace_client

        return workspace_client(self.env)

    def require_simulator(self, feature: str) -> Any:
        """Skip (never silently pass) when the backend cannot offer `feature`."""
        if self.simulator is None:
            pytest.skip(_needs_simulator(feature, self.backend))
        return self.simulator

    def sns_messages(self, topic_arn: str | None = None) -> list[dict]:
        return self.require_simulator("reading published SNS messages directly").aws.sns_messages(topic_arn)

    def clock(self) -> Any:
        """The simulator's clock (virtual unless started real-time); skips on other backends."""
        return self.require_simulator("the virtual clock").clock

    def faults(self) -> Any:
        """The active fault plan (`sim.faults.FaultPlan`); skips on other backends."""
        return self.require_simulator("fault plans on AWS services").faults

    def reset(self) -> None:
        if self.simulator is None:
            return
        self.simulator.faults.reset()
        if self.simulator.databricks is not None:
            self.simulator.databricks.faults.reset()


_COVERAGE = pytest.StashKey[list]()
_WIRE = "stepbricks_asl_coverage"  # key of a pytest-xdist worker's coverage in its workeroutput


@pytest.fixture(scope="session")
def stepbricks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StepbricksSession]:
    backend = request.config.getoption("--stepbricks-backend")
    if backend == "external":
        session = StepbricksSession(backend=backend, env=_external_env(os.environ))
        yield session
        _collect_coverage(request.config, session)
        return
    if backend == "docker":
        opt = request.config.getoption
        with docker_stack(compose_command=opt("--stepbricks-compose-command"),
                          keep=opt("--stepbricks-keep-stack")) as env:
            session = StepbricksSession(backend=backend, env={**os.environ, **env})
            yield session
            _collect_coverage(request.config, session)
        return
    from sim.simulator import Simulator

    seed = request.config.getoption("stepbricks_seed")
    enforce_iam = request.config.getoption("--stepbricks-enforce-iam")
    with Simulator.start(state_dir=tmp_path_factory.mktemp("stepbricks-state"), seed=seed,
                         enforce_iam=enforce_iam, spark=request.config.getoption("--stepbricks-spark"),
                         mlflow_tracking_uri=request.config.getoption("--stepbricks-mlflow")) as sim:
        session = StepbricksSession(backend=backend, env={**_aws_defaults(), **sim.env}, simulator=sim)
        yield session
        _collect_coverage(request.config, session)  # histories are read before the simulator stops


def _coverage_wanted(config: pytest.Config) -> bool:
    opt = config.getoption
    return bool(opt("--asl-cov") or opt("--asl-cov-json") or opt("--asl-cov-fail-under") is not None)


def _collect_coverage(config: pytest.Config, session: StepbricksSession) -> None:
    if not _coverage_wanted(config):
        return
    from harness.coverage import collect

    coverages = collect(session.client("stepfunctions"))
    config.stash[_COVERAGE] = coverages
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: its controller reports the merged coverage
        from harness.coverage import to_wire

        workeroutput[_WIRE] = to_wire(coverages)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist controller: fold each worker's coverage into one report (every worker has its own simulator)."""
    rows = getattr(node, "workeroutput", {}).get(_WIRE)
    if rows is None:
        return
    from harness.coverage import from_wire, merge

    config = node.config
    config.stash[_COVERAGE] = merge([*config.stash.get(_COVERAGE, []), *from_wire(rows)])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    coverages = config.stash.get(_COVERAGE, None)
    if coverages is None:
        return
    from harness.coverage import to_json, total_edge_percent

    tr = terminalreporter
    tr.section("state machine coverage (stepbricks)")
    tr.write_line(f"{'state machine':<40} {'execs':>6} {'states':>9} {'edges':>9} {'edge %':>7}")
    report = to_json(coverages)
    for name, row in report.items():
        states, edges = row["states"], row["edges"]
        tr.write_line(
            f"{name:<40} {row['executions']:>6} {states['covered']:>4}/{states['total']:<4} "
            f"{edges['covered']:>4}/{edges['total']:<4} {row['edge_percent']:>6.1f}%"
        )
    total = total_edge_percent(coverages)
    tr.write_line(f"{'TOTAL':<40} {'':>6} {'':>9} {'':>9} {total:>6.1f}%")
    path = config.getoption("--asl-cov-json")
    if path:
        import json

        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"total_edge_percent": round(total, 1), "state_machines": report}, fh, indent=2)
        tr.write_line(f"coverage JSON written to {path}")
    threshold = config.getoption("--asl-cov-fail-under")
    if threshold is not None and total < threshold:
        tr.write_line(f"FAIL: state machine edge coverage {total:.1f}% is under --asl-cov-fail-under={threshold}%", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    threshold = session.config.getoption("--asl-cov-fail-under")
    coverages = session.config.stash.get(_COVERAGE, None)
    if threshold is None or coverages is None:
        return
    from harness.coverage import total_edge_percent

    if total_edge_percent(coverages) < threshold and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _stepbricks_reset(request: pytest.FixtureRequest) -> Iterator[None]:
    """The test works for the session's simulator: its thread is bound to that simulator's context, so
    `fault_plan`, `sim.faults.activate` and clock reads reach it even when another simulator started later
    runs in the process (unbound, a thread works for the newest). Faults never leak from one test into the
    next, and a background thread of the simulator that failed during a test fails that test (at teardown)
    instead of only being logged."""
    if "stepbricks" not in request.fixturenames:
        yield
        return
    session = request.getfixturevalue("stepbricks")
    if session.simulator is None:
        yield
        session.reset()
        return
    from sim import context as sim_context

    with sim_context.bind(session.simulator.context):
        yield
    session.reset()
    session.simulator.raise_background_failures()


@pytest.fixture(scope="session")
def deployed_pipeline(stepbricks: StepbricksSession) -> Any:
    """The reference pipeline deployed once per session into the backend (idempotent deploy).

    On the simulator it polls every 30 s as on AWS (virtual time skips the waits); elsewhere every 2 s."""
    from harness.deploy import DeployConfig, deploy

    prefix = os.environ.get("STEPBRICKS_TEST_PREFIX", "")
    virtual = stepbricks.simulator is not None and getattr(stepbricks.simulator.clock, "virtual", False)
    return deploy(stepbricks.env, DeployConfig(prefix=prefix, poll_seconds=30 if virtual else 2))


@pytest.fixture
def fault_plan(stepbricks: StepbricksSession) -> Iterator[Any]:
    """A fresh, active fault plan for this test (`fault_plan.add("lambda", name, attempts=1, error=...)`);
    the previous plan is back after the test. Skips on backends without the simulator."""
    stepbricks.require_simulator("fault plans")
    from sim import faults as sim_faults

    # The test's thread is bound to the session simulator's context already (`_stepbricks_reset`, an autouse
    # fixture, is set up before the other function-scoped fixtures), so the plan is installed in that one.
    plan = sim_faults.FaultPlan()
    previous = sim_faults.activate(plan)
    try:
        yield plan
    finally:
        sim_faults.activate(previous)


@pytest.fixture
def virtual_clock(stepbricks: StepbricksSession) -> Any:
    """The simulator's clock: `now()`, `advance(seconds)`, `busy()`. Skips on other backends."""
    return stepbricks.clock()


@pytest.fixture(scope="module")
def _stepbricks_state_tester_client() -> Iterator[Any]:
    """The TestState server of the module (harness/state_tester.py): moto alone, started on first use.

    Module-scoped, not session-scoped: while any simulator runs, stepbricks' moto seams stay installed in
    the process, so a server kept all session changed what later tests that run plain moto saw (their
    integrations were routed to it)."""
    from harness.state_tester import state_tester_server

    with state_tester_server() as client:
        yield client


@pytest.fixture
def test_state(_stepbricks_state_tester_client: Any) -> Any:
    """Test one state of a shipped state machine through TestState, in milliseconds and without the session
    simulator (no Spark, no workspace):

        result = test_state("pipeline", "ValidateFile", input={...},
                            mock={"errorOutput": {"error": "Lambda.ServiceException", "cause": "down"}},
                            state_configuration={"retrierRetryCount": 1}, inspection_level="DEBUG")
        assert result.status == "RETRIABLE" and result.error_details["retryBackoffIntervalSeconds"] == 4

    The machine is rendered as `deploy` renders it; see harness/state_tester.py and the plugin docs."""
    from harness.state_tester import StateTester

    return StateTester(_stepbricks_state_tester_client)


_BEFORE = pytest.StashKey[set]()


def _execution_arns(session: StepbricksSession) -> set[str]:
    sfn = session.client("stepfunctions")
    arns = set()
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            for ex_page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
                arns.update(ex["executionArn"] for ex in ex_page["executions"])
    return arns


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Remember which executions existed before a stepbricks test, to report the ones it started."""
    if "stepbricks" in getattr(item, "fixturenames", ()):
        try:
            item.stash[_BEFORE] = _execution_arns(item._request.getfixturevalue("stepbricks"))  # type: ignore[attr-defined]
        except Exception:  # an unreachable backend fails the test itself, with its own message
            pass
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failing test that flew executions gets their HTML reports, named in the failure output."""
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.failed or _BEFORE not in item.stash:
        return
    try:
        paths = _reports_for_failed_test(item)
    except Exception as exc:  # a report that cannot be written must not hide the test's own failure
        report.sections.append(("stepbricks reports", f"could not write reports: {type(exc).__name__}: {exc}"))
        return
    if paths:
        report.sections.append(("stepbricks reports", "\n".join(str(p) for p in paths)))


def _reports_for_failed_test(item: pytest.Item, limit: int = 20) -> list[Any]:
    import re
    from pathlib import Path

    from harness.reporting import report_for_execution

    session: StepbricksSession = item._request.getfixturevalue("stepbricks")  # type: ignore[attr-defined]
    new = sorted(_execution_arns(session) - item.stash[_BEFORE])[:limit]
    folder = Path(os.environ.get("STEPBRICKS_HOME", ".stepbricks")) / "reports" / "tests"
    folder /= re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
    return [report_for_execution(session.env, arn, folder / f"{arn.rsplit(':', 1)[-1]}.html") for arn in new]


@pytest.fixture(scope="session")
def notification_inbox(stepbricks: StepbricksSession, deployed_pipeline: Any) -> Iterator[Any]:
    """What the pipeline published to its SNS topic, read through an SQS subscription: works on any backend."""
    from harness.inbox import NotificationInbox

    inbox = NotificationInbox.subscribe(stepbricks.env, deployed_pipeline.topic_arn, name="stepbricks-test-inbox")
    yield inbox
    inbox.close()


def _aws_defaults() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _external_env(environ: Mapping[str, str]) -> dict[str, str]:
    try:
        return external_env(environ)
    except BackendError as exc:
        raise pytest.UsageError(f"--stepbricks-backend=external: {exc}") from None
