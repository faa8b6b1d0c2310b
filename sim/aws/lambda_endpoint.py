"""A standalone Lambda Invoke endpoint (`POST /2015-03-31/functions/{name}/invocations`).

Step Functions Local calls `LAMBDA_ENDPOINT` with signed requests, but other tools (curl, a test, a
container without credentials) send unsigned ones, which moto's server cannot route: it picks the
service from the SigV4 scope and falls back to S3. This small server accepts either and forwards the
call through the Lambda API of the simulator, so it takes exactly the same path (and runtime) as a
boto3 `invoke`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.exceptions import ClientError

from sim import context as sim_context
from sim.aws.prompt_stop import stop_promptly

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")


class LambdaInvokeEndpoint:
    """Serves the Invoke API on `host:port` (0 = a free port), forwarding to `lambda_client`."""

    def __init__(self, lambda_client: Callable[[], Any], *, host: str = "127.0.0.1", port: int = 0) -> None:
        """`lambda_client` makes the boto3 client on first use (creating one costs ~50 ms of start-up)."""
        clients: list[Any] = []
        lock = threading.Lock()

        def client() -> Any:
            with lock:
                if not clients:
                    clients.append(lambda_client())
                return clients[0]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                url = urlsplit(self.path)
                match = _INVOKE_PATH.match(url.path)
                if match is None:
                    self._reply(404, {"Type": "User", "message": f"No Lambda API at {url.path}; this endpoint "
                                      "serves POST /2015-03-31/functions/{name}/invocations"},
                                {"x-amzn-ErrorType": "ResourceNotFoundException"})
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kwargs: dict[str, Any] = {
                    "FunctionName": unquote(match["name"]),
                    "InvocationType": self.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
                    "LogType": self.headers.get("X-Amz-Log-Type", "None"),
                    "Payload": body or b"{}",
                }
                qualifier = parse_qs(url.query).get("Qualifier")
                if qualifier:
                    kwargs["Qualifier"] = qualifier[0]
                try:
                    response = client().invoke(**kwargs)
                except ClientError as exc:
                    error = exc.response.get("Error", {})
                    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
                    self._reply(status, {"Type": "User", "message": error.get("Message", "")},
                                {"x-amzn-ErrorType": error.get("Code", "ServiceException")})
                    return
                headers = {"X-Amz-Executed-Version": response.get("ExecutedVersion", "$LATEST")}
                if response.get("FunctionError"):
                    headers["X-Amz-Function-Error"] = response["FunctionError"]
                if response.get("LogResult"):
                    headers["X-Amz-Log-Result"] = response["LogResult"]
                self._reply(response["StatusCode"], response["Payload"].read(), headers)

            def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet, like the simulator
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self._thread = sim_context.Thread(target=self._server.serve_forever, name="lambda-invoke-endpoint",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        stop_promptly(self._server.shutdown, self._server.server_address[:2])
        self._server.server_close()
        self._thread.join(timeout=5)
