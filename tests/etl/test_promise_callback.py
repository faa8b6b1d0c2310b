"""etl.promise_callback: seed 002's last notebook step settles the backend's promise over HTTP, waits out a
backend that is restarting, and takes the backend's refusal as final."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from etl.promise_callback import settle_promise


class _Backend(BaseHTTPRequestHandler):
    """Answers POST /resolve and /reject with the promise id it was given; 403 for an id "settled"."""

    calls: list[tuple[str, dict[str, list[str]]]]

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.calls.append((url.path, query))  # type: ignore[attr-defined]
        status, body = (403, b'{"detail": "already settled"}') if query["id"] == ["settled"] else (200, b"null")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Backend)
    server.calls = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def backend() -> Iterator[ThreadingHTTPServer]:
    server = _serve()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_resolve_posts_the_id_and_the_value_as_the_seed_s_notebook_does(backend: ThreadingHTTPServer) -> None:
    assert settle_promise(_url(backend), "order-1.1", "processed 3 rows") == (200, "null")
    assert backend.calls == [("/resolve", {"id": ["order-1.1"], "value": ["processed 3 rows"]})]


def test_reject_goes_to_the_reject_endpoint(backend: ThreadingHTTPServer) -> None:
    settle_promise(_url(backend) + "/", "run.RunEtl", "boom", action="reject")
    assert backend.calls == [("/reject", {"id": ["run.RunEtl"], "value": ["boom"]})]


def test_a_refusal_is_the_backend_s_answer_and_is_not_retried(backend: ThreadingHTTPServer) -> None:
    with pytest.raises(RuntimeError, match=r"refused to resolve settled: 403 .*already settled"):
        settle_promise(_url(backend), "settled", "late", pause=0.01)
    assert len(backend.calls) == 1


def test_a_backend_that_is_down_is_tried_again_until_it_is_back() -> None:
    probe = _serve()
    port = probe.server_address[1]
    probe.shutdown()
    probe.server_close()  # nothing listens on the port: the backend is restarting
    restarted: list[ThreadingHTTPServer] = []
    timer = threading.Timer(0.5, lambda: restarted.append(_serve(port)))
    timer.start()
    try:
        started = time.monotonic()
        assert settle_promise(f"http://127.0.0.1:{port}", "order-2.1", "v", pause=0.1)[0] == 200
        assert time.monotonic() - started >= 0.4  # it waited for the restart
        timer.join()  # the restarted server can answer before the timer's thread has recorded it (CI, once)
        assert restarted[0].calls == [("/resolve", {"id": ["order-2.1"], "value": ["v"]})]
    finally:
        timer.join()
        for server in restarted:
            server.shutdown()
            server.server_close()


def test_a_backend_that_stays_down_is_reported_after_the_attempts() -> None:
    probe = _serve()
    port = probe.server_address[1]
    probe.shutdown()
    probe.server_close()
    with pytest.raises(RuntimeError, match=r"could not resolve promise p at .* after 3 attempts"):
        settle_promise(f"http://127.0.0.1:{port}", "p", "v", attempts=3, pause=0.01)


def test_only_resolve_and_reject_are_actions() -> None:
    with pytest.raises(ValueError, match="action"):
        settle_promise("http://127.0.0.1:1", "p", "v", action="cancel")
