"""A promise server per test on the real clock (`server`), one on a virtual clock (`virtual`), and a reader
of the long-poll message source that a test can ask for the next message."""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sim.clock import VirtualClock
from sim.context import SimContext
from sim.resonate import PromiseServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PromiseServer]:
    with PromiseServer.start(state_dir=tmp_path / "resonate") as running:
        yield running


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[PromiseServer]:
    ctx = SimContext(clock=VirtualClock())
    with ctx.running():
        running = PromiseServer.start(state_dir=tmp_path / "resonate")
    try:
        yield running
    finally:
        running.stop()
        ctx.clock.close()


class Poller:
    """A worker's long-poll connection (`GET /<group>/<id>`, Server-Sent Events), read in a thread."""

    def __init__(self, server: PromiseServer, group: str, pid: str) -> None:
        self.messages: queue.Queue[dict] = queue.Queue()
        self._response = requests.get(f"{server.poll_url}/{group}/{pid}", stream=True, timeout=(5, None))
        self._response.raise_for_status()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._response.iter_lines(chunk_size=None, decode_unicode=True):
                if line and line.startswith("data:"):
                    self.messages.put(json.loads(line[5:]))
        except Exception:  # closed by close()
            pass

    def next(self, timeout: float = 10) -> dict:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        """Hang up at once (closing a streamed response that another thread reads would first wait for it)."""
        connection = getattr(self._response.raw, "_connection", None)
        if connection is not None and connection.sock is not None:
            connection.sock.shutdown(socket.SHUT_RDWR)
        self._response.close()


@pytest.fixture
def poller(server: PromiseServer) -> Iterator[callable]:
    opened: list[Poller] = []

    def connect(group: str = "default", pid: str = "worker-1", on: PromiseServer | None = None) -> Poller:
        p = Poller(on or server, group, pid)
        opened.append(p)
        return p

    yield connect
    for p in opened:
        p.close()
