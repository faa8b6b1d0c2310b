"""The whole offline topology in one object: local AWS, the fake Databricks workspace, MLflow.

`Simulator.start()` is the only lifetime the harness and the pytest plugin manage: everything costly
(moto, Spark clusters, MLflow's schema) is paid once per simulator, not per test or per run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sim import clock as sim_clock
from sim import context as sim_context
from sim import faults as sim_faults
from sim import mlflow_store
from sim.aws import AwsSimulator, moto_seams
from sim.aws.simulator import DEFAULT_ACCOUNT_ID
from sim.compute import backends as spark_backends
from sim.compute.seeded_ids import SEED_VARIABLE
from sim.databricks import Workspace
from sim.resonate import PromiseServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Where a workspace path is served from the project's files (a Databricks Repo checked out at this path).
REPO_MOUNT = "/Repos/stepbricks"


@dataclass(frozen=True)
class Endpoints:
    aws: str
    lambda_invoke: str
    databricks: str
    mlflow_tracking_uri: str


class Simulator:
    """A running simulator. Build it with `Simulator.start(...)`, never directly."""

    def __init__(self, *, state_dir: Path, aws: AwsSimulator, databricks: Workspace | None, mlflow_uri: str,
                 context: sim_context.SimContext, resonate: PromiseServer | None = None):
        self.state_dir = state_dir
        self.aws = aws
        self.databricks = databricks
        self.resonate = resonate  # the durable-promise server (seed 002's Resonate backend), when started
        self.mlflow_tracking_uri = mlflow_uri
        # Everything this simulator owns that is not a server: seed, clock, fault plan, error sink, ids.
        self.context = context

    @property
    def seed(self) -> int:
        return self.context.seed

    @property
    def clock(self) -> sim_clock.Clock:
        """The simulator's clock (a VirtualClock unless started with real_time=True)."""
        return self.context.clock

    @property
    def faults(self) -> sim_faults.FaultPlan:
        """The fault plan every service of this simulator consults."""
        return self.context.faults

    @property
    def errors(self) -> sim_context.ErrorSink:
        """Failures of the simulator's background threads, raised by `raise_background_failures()`."""
        return self.context.errors

    def raise_background_failures(self) -> None:
        """Raise `sim.context.BackgroundFailure` if a background thread of this simulator failed since the
        last call (the pytest plugin calls it at each test's teardown, the CLI before it exits)."""
        self.context.errors.raise_if_any()

    @classmethod
    @contextmanager
    def start(
        cls,
        *,
        state_dir: Path | None = None,
        databricks: bool = True,
        project_root: Path = PROJECT_ROOT,
        host: str = "127.0.0.1",
        keep_state: bool | None = None,
        real_time: bool = False,
        fault_plan: sim_faults.FaultPlan | None = None,
        seed: int = 0,
        deterministic: bool = False,
        warm_cluster: bool = True,
        warm_engine: bool = False,
        warm_libraries: bool = False,
        standby_worker: bool = False,
        resonate: bool = False,
        enforce_iam: bool = False,
        spark: str | None = None,
        spark_shared_dir: str | Path | None = None,
        mlflow_tracking_uri: str | None = None,
    ) -> Iterator[Simulator]:
        """Start local AWS and (unless `databricks=False`) the fake workspace; stop both on exit.

        Without `state_dir` the state lives in a temporary directory removed on exit; with one, it is kept
        (a restarted simulator finds its jobs, runs, secrets and MLflow store again).

        The simulator's seed, clock, fault plan, error sink and id source form its context
        (`sim.context.SimContext`, `simulator.context`), bound to the calling thread and carried by every
        thread the simulator starts; two simulators in one process do not see each other's.

        Time is virtual unless `real_time=True`: waits, back-off and timeouts skip ahead whenever no actor
        is doing real work (`sim.clock.VirtualClock`). `fault_plan` is the plan every service of this
        simulator consults (`sim.faults.active()` in its threads); without one, the plan active where it
        was started. `seed` seeds every id the simulator makes up (execution names, run and request ids,
        task tokens), so the same pipeline with the same seed and plan gives the same ids.

        `deterministic=True` also fixes time: the virtual clock starts at `sim.clock.DETERMINISTIC_EPOCH`
        and moves only when every actor waits on a timer (real work takes no virtual time), so the same
        flight with the same seed and plan gives byte-identical histories, timestamps included.

        `warm_cluster` starts the default cluster's Spark in the background at once (the user's first run
        then waits less, or not at all); pass False when no task will run. `warm_engine` also has it run a
        small representative Spark job while PENDING: worth it when the first task comes long after start-up
        (`stepbricks up`), not for a flight that follows at once (docs/performance.md). `warm_libraries` has
        it import MLflow and scikit-learn beside its first task, for a flight that trains at once (a fresh
        `stepbricks run`'s first training: 4.7 s before, 2.3 s after). `standby_worker` keeps
        a second, warm worker of the default cluster in the process's pool, which a restart after the worker
        died leases instead of starting a JVM (`sim.compute.pool`): for runs that kill workers often
        (`stepbricks experiment`); it costs a JVM's memory and start-up.

        `resonate=True` also starts the durable-promise server (`sim.resonate`) for Resonate workers, on the
        simulator's clock, its state under `state_dir/resonate`; `env` then carries the RESONATE_* variables
        `Resonate.remote()` reads.

        `enforce_iam=True` makes the AWS endpoints evaluate IAM policies (docs/iam.md): Lambdas run with their
        execution role's temporary credentials, state machines call services with theirs, and a call their
        policies do not allow fails with AWS's AccessDenied; `env`'s own key stays allowed everything.
        `spark` is where the workspace's clusters run their Spark work (`sim.compute.backends`): `local`
        (the default), `spark://host:port` (a standalone master) or `sc://host:port` (a Spark Connect
        server); unset, `STEPBRICKS_SPARK` decides. `spark_shared_dir` (or `STEPBRICKS_SPARK_SHARED_DIR`)
        is a directory every node of that backend sees at the same path, where s3:// data is staged.
        `mlflow_tracking_uri` names an existing MLflow tracking server (e.g. `http://mlflow:5000`) that
        the clusters and clients use instead of the simulator's own SQLite store.
        """
        backend = spark_backends.parse(spark or os.environ.get(spark_backends.SPARK_ENV),
                                       shared_dir=spark_shared_dir or os.environ.get(spark_backends.SHARED_DIR_ENV))
        outer = sim_context.current()
        ctx = sim_context.SimContext(
            seed=seed,
            clock=sim_clock.Clock() if real_time else sim_clock.VirtualClock(frozen=deterministic),
            faults=fault_plan if fault_plan is not None else outer.faults,
            deterministic=deterministic,
            name=f"simulator-{seed}",
        )
        try:
            with ctx.running(), cls._start(state_dir=state_dir, databricks=databricks, project_root=project_root,
                                           host=host, keep_state=keep_state, context=ctx,
                                           warm_cluster=warm_cluster, warm_engine=warm_engine,
                                           warm_libraries=warm_libraries, standby_worker=standby_worker, resonate=resonate,
                                           enforce_iam=enforce_iam, spark=backend,
                                           mlflow_tracking_uri=mlflow_tracking_uri) as simulator:
                yield simulator
        finally:
            ctx.clock.close()

    @classmethod
    @contextmanager
    def _start(cls, *, state_dir: Path | None, databricks: bool, project_root: Path, host: str,
               keep_state: bool | None, context: sim_context.SimContext,
               warm_cluster: bool, warm_engine: bool = False, warm_libraries: bool = False,
               standby_worker: bool = False, resonate: bool = False,
               enforce_iam: bool = False,
               spark: spark_backends.ClusterBackend | None = None,
               mlflow_tracking_uri: str | None = None) -> Iterator[Simulator]:
        owned = state_dir is None
        state = Path(state_dir or tempfile.mkdtemp(prefix="stepbricks-")).resolve()
        state.mkdir(parents=True, exist_ok=True)
        context.state_dir = state
        if mlflow_tracking_uri:  # the team's tracking server: nothing of MLflow's lives in the state dir
            mlflow_uri = mlflow_tracking_uri
        else:
            mlflow_uri = f"sqlite:///{state / 'mlflow' / 'mlflow.db'}"
            (state / "mlflow").mkdir(exist_ok=True)
            mlflow_store.prepare_in_background(state / "mlflow" / "mlflow.db")
        try:
            with ExitStack() as promises, AwsSimulator.start(state_dir=state / "aws", host=host, context=context,
                                                              account_id=_free_account_id(context),
                                                              enforce_iam=enforce_iam) as aws:
                server = promises.enter_context(PromiseServer.start(state_dir=state / "resonate", host=host)) \
                    if resonate else None  # fmt: skip
                if not databricks:
                    yield cls(state_dir=state, aws=aws, databricks=None, mlflow_uri=mlflow_uri, context=context,
                              resonate=server)  # fmt: skip
                    return
                cluster_env = {
                    **aws.env,
                    "MLFLOW_TRACKING_URI": mlflow_uri,
                    **mlflow_store.client_env(mlflow_uri),
                    "MLFLOW_S3_ENDPOINT_URL": aws.endpoint,
                    # Clusters stage s3:// through the S3 API: the pyspark wheel has no s3a jars (stack-facts.md).
                    "STEPBRICKS_STORAGE_MODE": "staged",
                }
                if context.deterministic:  # MLflow's run ids in the cluster workers come from the seed too
                    cluster_env[SEED_VARIABLE] = str(context.seed)
                with Workspace.start(
                    state_dir=state / "databricks",
                    host=host,
                    cluster_env=cluster_env,
                    mounts={REPO_MOUNT: project_root},
                    warm_default_cluster=warm_cluster, warm_engine=warm_engine, warm_libraries=warm_libraries,
                    standby_worker=standby_worker,
                    spark=spark, s3_changes=aws.s3_changes,
                ) as workspace:
                    yield cls(state_dir=state, aws=aws, databricks=workspace, mlflow_uri=mlflow_uri, context=context,
                              resonate=server)  # fmt: skip
        finally:
            if (keep_state is False) or (owned and keep_state is not True):
                shutil.rmtree(state, ignore_errors=True)

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            aws=self.aws.endpoint,
            lambda_invoke=self.aws.lambda_invoke_endpoint,
            databricks=self.databricks.host if self.databricks else "",
            mlflow_tracking_uri=self.mlflow_tracking_uri,
        )

    @property
    def env(self) -> dict[str, str]:
        """The standard variables that point any client (boto3, databricks-sdk, mlflow) at this simulator."""
        env = {
            **self.aws.env,
            "MLFLOW_TRACKING_URI": self.mlflow_tracking_uri,
            **mlflow_store.client_env(self.mlflow_tracking_uri),
            "MLFLOW_S3_ENDPOINT_URL": self.aws.endpoint,
        }
        if self.databricks:
            env.update(self.databricks.env)
        if self.resonate:
            env.update(self.resonate.env)
        return env

    @contextmanager
    def environment(self) -> Iterator[Mapping[str, str]]:
        """Export `env` into os.environ for the duration (restoring what was there)."""
        with patched_environ(self.env) as env:
            yield env


def _free_account_id(ctx: sim_context.SimContext) -> str:
    """moto's default account for the first simulator of the process; the next free one for a simulator
    started beside others (moto's backends are per account, so their AWS state stays apart)."""
    taken = {c.aws_account_id for c in sim_context.running() if c is not ctx} | moto_seams.accounts_in_use()
    account = int(DEFAULT_ACCOUNT_ID)
    while str(account) in taken:
        account += 1
    ctx.aws_account_id = str(account)
    return ctx.aws_account_id


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[Mapping[str, str]]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield values
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
