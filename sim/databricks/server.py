"""`Workspace`: the fake Databricks workspace as a context manager, serving on 127.0.0.1 and a free port.

    with Workspace.start(state_dir=tmp, mounts={"/Repos/stepbricks": project_root}) as ws:
        WorkspaceClient(host=ws.host, token=ws.token).jobs.list()

The HTTP server runs in a thread of the calling process; clusters are separate worker processes that get
`cluster_env` plus DATABRICKS_HOST / DATABRICKS_TOKEN (so `dbutils.secrets` can call back).
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from sim import clock
from sim import context as sim_context
from sim.compute.backends import ClusterBackend
from sim.databricks.app import build_app
from sim.databricks.backend import Backend
from sim.databricks.faults.models import FaultList
from sim.databricks.runs.scheduler import FailureStyle
from sim.databricks.triggers.file_arrival import S3Changes

STARTUP_TIMEOUT_SECONDS = 30.0


def new_token() -> str:
    """A random personal-access-token lookalike (`dapi` + 32 hex digits)."""
    return "dapi" + secrets.token_hex(16)


class Workspace:
    """A running fake workspace. Build it with `Workspace.start(...)`; stop it with `.stop()` or `with`."""

    def __init__(self, backend: Backend, server: uvicorn.Server, thread: threading.Thread) -> None:
        self._backend = backend
        self._server = server
        self._thread = thread

    @classmethod
    def start(
        cls,
        *,
        state_dir: Path,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        cluster_env: Mapping[str, str] | None = None,
        mounts: Mapping[str, Path] | None = None,
        failure_style: FailureStyle = "workspace",
        warm_default_cluster: bool = False,
        warm_engine: bool = False,
        warm_libraries: bool = False,
        standby_worker: bool = False,
        spark: ClusterBackend | None = None,
        s3_changes: S3Changes | None = None,
    ) -> Workspace:
        """`spark`: where clusters run their Spark work (`sim.compute.backends.parse(url)`), local by default.
        `s3_changes`: the simulated S3's change token per bucket (`AwsSimulator.s3_changes`), when the
        clusters' S3 is served in this process: file-arrival triggers then list a location only after a
        change."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound_host, bound_port = sock.getsockname()[:2]
        url = f"http://{bound_host}:{bound_port}"
        backend = Backend.open(
            state_dir=Path(state_dir), host=url, token=token or new_token(), cluster_env=dict(cluster_env or {}),
            mounts={k: Path(v) for k, v in (mounts or {}).items()}, failure_style=failure_style, spark=spark,
            s3_changes=s3_changes,
        )
        config = uvicorn.Config(build_app(backend), log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        thread = sim_context.Thread(target=server.run, kwargs={"sockets": [sock]}, name="databricks-api",
                                  daemon=True)
        thread.start()
        started = threading.Event()
        deadline = clock.get().monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or clock.get().monotonic() > deadline:
                backend.close()
                raise RuntimeError(f"the fake Databricks workspace did not start on {url}")
            clock.get().poll(started, 0.01)  # start-up, not a timer: virtual time must not jump for it
        if warm_default_cluster:
            # Spark starts in the background while the caller deploys and uploads: a run that arrives before
            # it is up waits, and reports that wait as its setup_duration, as on Databricks.
            # `warm_engine` also runs a representative Spark job then (see LocalCluster.warm_engine);
            # `standby_worker` keeps a second warm worker for its restarts (LocalCluster.standby);
            # `warm_libraries` has it import MLflow and scikit-learn beside its first task (LocalCluster.warm_libraries).
            backend.compute().warm_default(engine=warm_engine, standby=standby_worker, libraries=warm_libraries)
        return cls(backend, server, thread)

    @property
    def host(self) -> str:
        """`http://127.0.0.1:<port>` — what DATABRICKS_HOST should be."""
        return self._backend.host

    @property
    def token(self) -> str:
        return self._backend.token

    @property
    def context(self) -> sim_context.SimContext:
        """The simulator context it serves in (its clock, fault plan and ids): a test that waits on its runs
        binds to it, so its deadlines are on the workspace's clock, not on whichever simulator runs newest."""
        return self._thread.sim_context  # type: ignore[attr-defined]

    @property
    def env(self) -> dict[str, str]:
        return {"DATABRICKS_HOST": self.host, "DATABRICKS_TOKEN": self.token}

    @property
    def faults(self) -> FaultList:
        """The Python fault API (`faults.http(...)`, `faults.task(...)`, `faults.reset()`): faults it adds live in
        the simulator's fault plan (`faults.plan`; a workspace started on its own has a plan of its own)."""
        return self._backend.faults

    @property
    def app(self) -> FastAPI:
        """The ASGI application (its OpenAPI document lists every route)."""
        return self._server.config.app

    @property
    def backend(self) -> Backend:
        """The workspace's state, for white-box tests and the harness's reports."""
        return self._backend

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(STARTUP_TIMEOUT_SECONDS)
        self._backend.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running(**kwargs: object) -> Iterator[Workspace]:
    workspace = Workspace.start(**kwargs)  # type: ignore[arg-type]
    try:
        yield workspace
    finally:
        workspace.stop()
