"""`PromiseServer`: the local durable-promise server, as a context manager, on 127.0.0.1 and free ports.

    with PromiseServer.start(state_dir=tmp) as server:
        Resonate.remote(host=server.host, store_port=server.store_port,
                        message_source_port=server.message_source_port)

Like the Resonate server it listens on two ports: the store API (promises, tasks, schedules; the SDK's
default 8001) and the message source (long-poll; default 8002). Both run in threads of the calling
process. State is one SQLite file under `state_dir`: a server started again on the same directory has
every promise, callback, task and schedule it had. A loop thread applies deadlines on the simulator's
clock (`sim.clock`): it waits through the clock until the next promise timeout, lease or schedule, so a
virtual clock that skips (or `advance`s) makes promises time out without wall time passing.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from sim import clock as sim_clock
from sim import context as sim_context
from sim.resonate.api import build_store_app
from sim.resonate.dispatch import Dispatcher
from sim.resonate.poll import build_poll_app
from sim.resonate.store import PromiseStore

STARTUP_TIMEOUT_SECONDS = 30.0
DB_NAME = "resonate.sqlite"


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class PromiseServer:
    """A running promise server. Build it with `PromiseServer.start(...)`; stop it with `.stop()` or `with`."""

    def __init__(self, host: str, store: PromiseStore, dispatcher: Dispatcher, clock: sim_clock.Clock) -> None:
        self._host = host
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock
        self._servers: list[tuple[uvicorn.Server, threading.Thread, int]] = []
        self._wake = sim_clock.ClockEvent()
        self._stopping = False
        self._loop_thread: threading.Thread | None = None

    @classmethod
    def start(cls, *, state_dir: Path, host: str = "127.0.0.1", store_port: int = 0,
              message_source_port: int = 0) -> PromiseServer:  # fmt: skip
        clock = sim_clock.get()
        store = PromiseStore(Path(state_dir) / DB_NAME, clock.now_ms)
        server = cls(host, store, Dispatcher(clock), clock)
        store.changed = server._wake.set
        server.dispatcher.on_connect = server._wake.set
        try:
            server._serve(build_store_app(store), store_port, "resonate-store")
            server._serve(build_poll_app(server.dispatcher, lambda: server._stopping), message_source_port,
                          "resonate-poll")  # fmt: skip
        except BaseException:
            server.stop()
            raise
        server._loop_thread = sim_context.spawn(server._loop, name="resonate-deadlines")
        return server

    def _serve(self, app: object, port: int, name: str) -> None:
        sock = _bind(self._host, port)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
        server = uvicorn.Server(config)
        thread = sim_context.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
        thread.start()
        self._servers.append((server, thread, sock.getsockname()[1]))
        started = threading.Event()
        deadline = self.clock.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or self.clock.monotonic() > deadline:
                raise RuntimeError(f"the Resonate promise server ({name}) did not start on {self._host}:{port}")
            self.clock.poll(started, 0.01)  # start-up, not a timer

    def _loop(self) -> None:
        """Apply deadlines and deliver tasks; sleep on the clock until the next deadline or a change."""
        while not self._stopping:
            self._wake.clear()
            self.store.tick()
            for delivery in self.store.deliverable():
                if self.dispatcher.send(delivery.recv, delivery.message):
                    self.store.delivered(delivery)
            due = self.store.next_deadline()
            # A deadline past FOREVER_S (the SDK's year-9999 subscriptions) is no timer to skip to.
            timeout = None if due is None else min(max(0.0, (due - self.clock.now_ms()) / 1000), sim_clock.FOREVER_S)
            self.clock.wait(self._wake, timeout)

    # --- addresses -------------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """`http://127.0.0.1` — the SDK's `host` / RESONATE_HOST (ports are separate settings)."""
        return f"http://{self._host}"

    @property
    def store_port(self) -> int:
        return self._servers[0][2]

    @property
    def message_source_port(self) -> int:
        return self._servers[1][2]

    @property
    def url(self) -> str:
        """The store API's base URL."""
        return f"{self.host}:{self.store_port}"

    @property
    def poll_url(self) -> str:
        return f"{self.host}:{self.message_source_port}"

    @property
    def env(self) -> dict[str, str]:
        """The variables resonate-sdk's `Resonate.remote()` reads (`stores/remote.py`, `message_sources/poller.py`)."""
        return {"RESONATE_HOST": self.host, "RESONATE_PORT_STORE": str(self.store_port),
                "RESONATE_PORT_MESSAGE_SOURCE": str(self.message_source_port)}  # fmt: skip

    # --- lifetime --------------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self.dispatcher.close()
        for server, _, _ in self._servers:
            server.should_exit = True
        for _, thread, _ in self._servers:
            thread.join(STARTUP_TIMEOUT_SECONDS)
        if self._loop_thread is not None:
            self._loop_thread.join(STARTUP_TIMEOUT_SECONDS)
        self.store.close()

    def __enter__(self) -> PromiseServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def running(**kwargs: Any) -> Iterator[PromiseServer]:
    server = PromiseServer.start(**kwargs)
    try:
        yield server
    finally:
        server.stop()
