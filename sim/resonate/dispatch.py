"""The connected long-poll clients and the messages on their way to them.

Each `GET /<group>/<id>` on the message-source port is a `Connection` with its own queue; `send` picks the
connection an address names (`sim.resonate.recv`). While at least one worker is connected the simulator's
clock counts it as an actor doing real work (a Resonate worker is a process the virtual clock cannot see:
skipping time while it runs would lapse its leases and time out the promises it is about to complete).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim import clock as sim_clock
from sim import context as sim_context
from sim.resonate.recv import parse


@dataclass(eq=False)
class Connection:
    group: str
    id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    seq: int = 0

    def put(self, message: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, json.dumps(message))

    def end(self) -> None:
        """Close the stream (the server is stopping)."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.queue.put_nowait, None)


class Dispatcher:
    def __init__(self, clock: sim_clock.Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._connections: list[Connection] = []
        self._seq = itertools.count(1)
        self._rr = itertools.count()
        self._presence: threading.Event | None = None
        self.on_connect: Callable[[], None] = lambda: None  # the server's loop hook: deliver what waited

    def connect(self, group: str, pid: str) -> Connection:
        connection = Connection(group, pid, asyncio.get_running_loop(), seq=next(self._seq))
        with self._lock:
            self._connections.append(connection)
            if len(self._connections) == 1:
                self._hold_clock()
        self.on_connect()
        return connection

    def disconnect(self, connection: Connection) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
            if not self._connections and self._presence is not None:
                self._presence.set()
                self._presence = None

    def connected(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(c.group, c.id) for c in self._connections]

    def send(self, recv: str, message: dict[str, Any]) -> bool:
        """Queue `message` for the connection `recv` names; False if none is connected (try again later)."""
        address = parse(recv)
        if address is None:
            return False
        with self._lock:
            group = [c for c in self._connections if c.group == address.group]
            exact = [c for c in group if c.id == address.id]
            targets = exact or ([] if address.cast == "uni" else group)
            if not targets:
                return False
            target = exact[-1] if exact else targets[next(self._rr) % len(targets)]
        target.put(message)
        return True

    def _hold_clock(self) -> None:
        """A busy claim on the clock held by a small thread for as long as any worker is connected."""
        released = threading.Event()
        self._presence = released

        def hold() -> None:
            with self._clock.busy():
                released.wait()

        sim_context.spawn(hold, name="resonate-worker-presence")

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.end()
            self._connections.clear()
            if self._presence is not None:
                self._presence.set()
                self._presence = None
