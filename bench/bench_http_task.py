"""The HTTP Task's cost: one-state Express executions (StartSyncExecution) whose state is a Pass, a Lambda
Task or an HTTP Task, against the same HTTP request sent directly with httpx.

Run: .venv/bin/python bench/bench_http_task.py [--executions N]

All legs run in one process on one simulator, so the ratios compare like with like on this machine. The
HTTP Task calls a loopback server through an API_KEY EventBridge connection (its secret read per call).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

BODY = json.dumps({"run_id": 1, "state": {"life_cycle_state": "RUNNING"}}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        # One write for head and body: two small writes meet the client's delayed ACK (~40 ms a request).
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
        self.wfile.write(head.encode() + BODY)

    def log_message(self, *args: Any) -> None:
        pass


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'run_id': 1}\n")
    return buffer.getvalue()


def _median_ms(fn: Callable[[], Any], n: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=50)
    args = parser.parse_args()

    from sim.aws import AwsSimulator

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/2.2/jobs/runs/get?run_id=1"
    with tempfile.TemporaryDirectory() as tmp, AwsSimulator.start(state_dir=Path(tmp)) as sim:
        sfn = sim.client("stepfunctions", inject_host_prefix=False)
        role = sim.client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = sim.client("lambda").create_function(
            FunctionName="bench", Runtime="python3.11", Role=role, Handler="app.handler",
            Code={"ZipFile": _zip()})["FunctionArn"]
        connection = sim.client("events").create_connection(
            Name="bench", AuthorizationType="API_KEY",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": "Bearer t"}},
        )["ConnectionArn"]
        states = {
            "Pass": {"Type": "Pass", "Result": {"run_id": 1}},
            "Lambda Task": {"Type": "Task", "Resource": function},
            "HTTP Task": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "Parameters": {
                "ApiEndpoint": url, "Method": "GET", "Authentication": {"ConnectionArn": connection}}},
        }
        rows: list[tuple[str, float]] = []
        for label, state in states.items():
            arn = sfn.create_state_machine(
                name=f"bench-{label.split()[0].lower()}", roleArn=role, type="EXPRESS",
                definition=json.dumps({"StartAt": "S", "States": {"S": {**state, "End": True}}}))["stateMachineArn"]

            def run(arn: str = arn) -> None:
                assert sfn.start_sync_execution(stateMachineArn=arn, input="{}")["status"] == "SUCCEEDED"

            rows.append((f"execution with one {label} (median of {args.executions})", _median_ms(run, args.executions)))
        with httpx.Client() as client:
            direct = _median_ms(lambda: client.get(url, headers={"Authorization": "Bearer t"}).json(), args.executions)
    server.shutdown()

    base = rows[0][1]
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'measurement':<{width}}  {'ms':>9}  ratio")
    print("-" * (width + 24))
    for label, ms in rows:
        print(f"{label:<{width}}  {ms:>9.2f}  {ms / base:.2f}x the Pass execution")
    print(f"{'the same request sent directly with httpx':<{width}}  {direct:>9.2f}")
    http_ms = rows[2][1]
    print(f"\npython {sys.version.split()[0]}; HTTP Task over Pass = {http_ms - base:.2f} ms per call "
          f"({(http_ms - base) / direct:.1f}x the direct request)")


if __name__ == "__main__":
    main()
