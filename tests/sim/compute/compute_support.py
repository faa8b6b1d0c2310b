"""Helpers of the compute tests (a module with a unique name: test folders have no __init__.py)."""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sim.compute import TaskInvocation, TaskResult

WAIT_SECONDS = 180  # a generous bound for a cold cluster start on a busy 2-core machine


class SecretsApi:
    """A tiny real HTTP server answering the workspace's secrets API shapes (values base64)."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.values: dict[tuple[str, str], str] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._answer(403, {"error_code": 403, "message": "Invalid access token."})
                if url.path == "/api/2.0/secrets/get":
                    value = api.values.get((query.get("scope", ""), query.get("key", "")))
                    if value is None:
                        return self._answer(
                            404,
                            {
                                "error_code": "RESOURCE_DOES_NOT_EXIST",
                                "message": f"Failed to get secret {query.get('key')} for scope {query.get('scope')}.",
                            },
                        )
                    encoded = base64.b64encode(value.encode()).decode()
                    return self._answer(200, {"key": query["key"], "value": encoded})
                if url.path == "/api/2.0/secrets/list":
                    keys = [{"key": k} for (s, k) in sorted(api.values) if s == query.get("scope")]
                    return self._answer(200, {"secrets": keys} if keys else {})
                if url.path == "/api/2.0/secrets/scopes/list":
                    return self._answer(200, {"scopes": [{"name": s} for s in sorted({s for s, _ in api.values})]})
                return self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": url.path})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_run_ids = itertools.count(1000)


def invocation(**fields: object) -> TaskInvocation:
    fields.setdefault("run_id", next(_run_ids))
    fields.setdefault("task_key", "task")
    fields.setdefault("attempt_number", 0)
    return TaskInvocation(**fields)  # type: ignore[arg-type]


def finished(handle: object) -> TaskResult:
    result = handle.wait(WAIT_SECONDS)  # type: ignore[attr-defined]
    assert result is not None, "the attempt did not end in time"
    return result


class StartSignal:
    """The task connects here once it runs, so the test knows when to stop it without polling."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(WAIT_SECONDS)
        self.port = self.server.getsockname()[1]
        self.connect = f"import socket\nsocket.create_connection(('127.0.0.1', {self.port})).close()\n"

    def wait(self) -> None:
        try:
            connection, _ = self.server.accept()
        except TimeoutError:
            raise AssertionError(f"the task never started running: no connection in {WAIT_SECONDS} s") from None
        finally:
            self.server.close()
        connection.close()
