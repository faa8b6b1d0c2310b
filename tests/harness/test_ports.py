"""The ports harness/ports.py gives the servers the harness starts: distinct, on 127.0.0.1, free when handed out."""

from __future__ import annotations

import socket

from harness.ports import free_ports


def test_ports_asked_for_together_are_distinct_and_each_can_be_bound_on_loopback():
    ports = free_ports(64)  # a Connect server once got one port for its gRPC service and its UI
    assert len(set(ports)) == 64
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
