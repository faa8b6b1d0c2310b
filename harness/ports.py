"""Free TCP ports on 127.0.0.1 for the servers the harness starts (Spark, MLflow, app backends)."""

from __future__ import annotations

import socket
from contextlib import ExitStack

__all__ = ["free_port", "free_ports"]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: every probe's socket stays bound until all are chosen. Probed one at a time and
    closed, two picks can be the same port: a Connect server was once given one port for its gRPC service and its
    UI (its UI moved, its URL did not: connection refused), and serve.py's second server "Address already in use"."""
    with ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def free_port() -> int:
    return free_ports(1)[0]
