"""`stop_promptly`: a socketserver stops at once instead of at its loop's next poll (moto's server and the
Lambda endpoint poll every 0.5 s, which every simulator teardown used to wait out, twice)."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from sim.aws import AwsSimulator
from sim.aws.prompt_stop import stop_promptly


class _Quiet(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        pass


def test_a_server_polling_once_an_hour_stops_when_asked():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Quiet)
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 3600}, daemon=True)
    loop.start()
    address = server.server_address[:2]
    stopper = threading.Thread(target=stop_promptly, args=(server.shutdown, address), daemon=True)
    stopper.start()
    stopper.join(timeout=30)  # plain shutdown() would wait for the hour's poll
    assert not stopper.is_alive() and not loop.is_alive()
    server.server_close()
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=2)


def test_a_stopped_simulator_no_longer_answers_on_either_port(tmp_path):
    with AwsSimulator.start(state_dir=tmp_path) as aws:
        ports = [aws.port, int(aws.lambda_invoke_endpoint.rsplit(":", 1)[1])]
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
