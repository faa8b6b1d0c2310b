"""The virtual clock: waits and back-off in virtual vs real time, and interpreter throughput vs plain moto.

Run: .venv/bin/python bench/bench_clock.py [--polls N] [--executions N]

Legs (every number from this run, on this machine):
1. The seed 003 polling loop (a status Lambda reports "running" N-1 times, Wait 30 s between polls) and
   a definition with one hour of waits and Retry back-off, on the virtual clock.
2. The same on real time. Waiting 30 s per poll (and an hour) for real is pointless, so the real leg
   flies scaled-down definitions (1 s waits / 1 s back-off) and EXTRAPOLATES: real = measured wall time
   - scaled waits + full waits. The ratio is real (extrapolated) / virtual (measured).
3. State transitions per second through a Pass chain (400 states for one execution, 40 each for 50
   concurrent ones: `MIN_TRANSITIONS_PER_LEG`), on the stepbricks simulator (virtual clock, all seams)
   vs plain moto's ThreadedMotoServer (no seams).
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import logging
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3

from bench.table import report
from sim.simulator import Simulator

STATUS = """
def handler(event, context):
    polls = event.get("polls", 0) + 1
    return {"polls": polls, "ready_after": event["ready_after"],
            "status": "done" if polls >= event["ready_after"] else "running"}
"""
FAILING = """
class TransientError(Exception):
    pass

def handler(event, context):
    raise TransientError("down")
"""
PASS_STATES = 40
# Each leg flies at least this many transitions, so that the 20 ms status poll that times it is a few
# percent of its wall: one execution of 40 Pass states took ~20 ms here, so the poll, not the interpreter,
# set that figure (and the faster side lost most). One execution flies a chain this long; 50 fly 40 each.
MIN_TRANSITIONS_PER_LEG = 400
_NAMES = itertools.count(1)  # unique across endpoints: moto's backends outlive one server


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def polling(function: str, wait_s: int) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
            "Parameters": {"FunctionName": function, "Payload.$": "$"}, "Next": "Ready?"}
    return {"StartAt": "Poll", "States": {
        "Poll": task,
        "Ready?": {"Type": "Choice", "Choices": [{"Variable": "$.status", "StringEquals": "done", "Next": "Done"}],
                   "Default": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": wait_s, "Next": "Poll"},
        "Done": {"Type": "Succeed"},
    }}


def hour(function: str, scale: float) -> tuple[dict[str, Any], float]:
    """Waits of 1800 + 900 s and Retry back-off of 225 x (1 + 2 + 4) s: 4275 s at scale 1; (definition, waits)."""
    wait_a, wait_b, interval = round(1800 * scale) or 1, round(900 * scale) or 1, round(225 * scale) or 1
    definition = {"StartAt": "Long wait", "States": {
        "Long wait": {"Type": "Wait", "Seconds": wait_a, "Next": "Shorter wait"},
        "Shorter wait": {"Type": "Wait", "Seconds": wait_b, "Next": "Flaky"},
        "Flaky": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": function},
                  "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": interval, "BackoffRate": 2.0,
                             "MaxAttempts": 3}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recovered"}], "End": True},
        "Recovered": {"Type": "Pass", "End": True},
    }}
    return definition, wait_a + wait_b + interval * 7


def pass_chain(length: int = PASS_STATES) -> dict[str, Any]:
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(length - 1)}
    states[f"S{length - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "S0", "States": states}


def chain_length(executions: int) -> int:
    """States per execution for a leg of `executions`: at least PASS_STATES, at least the leg's minimum."""
    return max(PASS_STATES, -(-MIN_TRANSITIONS_PER_LEG // executions))


class Endpoint:
    """boto3 clients for one moto endpoint, and helpers to fly definitions on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "testing",
                  "aws_secret_access_key": "testing"}
        self.sfn = boto3.client("stepfunctions", **kwargs)
        self.lam = boto3.client("lambda", **kwargs)
        self.role = boto3.client("iam", **kwargs).create_role(
            RoleName=f"bench-{time.monotonic_ns()}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    def name(self, prefix: str) -> str:
        return f"{prefix}-{next(_NAMES)}"

    def function(self, source: str) -> str:
        name = self.name("bench-fn")
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Role=self.role, Handler="app.handler",
                                 Code={"ZipFile": _zip(source)}, Timeout=30)
        return name

    def fly(self, definition: dict[str, Any], payload: Any = None, executions: int = 1) -> float:
        machine = self.sfn.create_state_machine(name=self.name("bench-sm"), roleArn=self.role,
                                                definition=json.dumps(definition))["stateMachineArn"]
        started = time.monotonic()
        for i in range(executions):
            self.sfn.start_execution(stateMachineArn=machine, name=f"e{i}", input=json.dumps(payload or {}))
        # One request per round, whatever the number of executions: describing each of 50 executions every
        # 20 ms put ~2,500 requests a second into the process under test, competing with the executions
        # for the same interpreter (py-spy: a sixth of the samples were the poller's), so the leg measured
        # the poller as much as the engine.
        pause = threading.Event()
        while self.sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING", maxResults=1)["executions"]:
            pause.wait(0.02)
        pages = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
        ended = [e for page in pages for e in page["executions"]]
        if len(ended) != executions or any(e["status"] != "SUCCEEDED" for e in ended):
            raise RuntimeError(f"{machine}: {sorted(e['status'] for e in ended)}")
        return time.monotonic() - started


def measure_waits(real_time: bool, polls: int, scale_wait: int) -> tuple[float, float, float, float]:
    """(polling wall, polling waits, hour wall, hour waits) with waits of `scale_wait` s per poll."""
    with tempfile.TemporaryDirectory() as state, Simulator.start(state_dir=Path(state), databricks=False,
                                                                  real_time=real_time) as sim:
        endpoint = Endpoint(sim.aws.endpoint)
        status = endpoint.function(STATUS)
        endpoint.fly(polling(status, scale_wait), {"ready_after": 1})  # warm the Lambda worker
        poll_wall = endpoint.fly(polling(status, scale_wait), {"ready_after": polls})
        definition, hour_waits = hour(endpoint.function(FAILING), 1.0 if not real_time else 1 / 225)
        hour_wall = endpoint.fly(definition)
        return poll_wall, scale_wait * (polls - 1), hour_wall, hour_waits


def throughput(url: str, executions: int) -> float:
    endpoint = Endpoint(url)
    length = chain_length(executions)
    wall = endpoint.fly(pass_chain(length), executions=executions)
    return length * executions / wall


def preprocess_ms(states: int, repeats: int = 200) -> float:
    """Milliseconds to build one execution's components from a definition's cached parse tree: what every
    StartExecution pays before its first state (moto's `Preprocessor`; run while a simulator's seams are on)."""
    from sim.aws.moto_seams.sfn_parse_cache import parse_program

    definition = json.dumps(pass_chain(states))
    parse_program(definition)  # parsed and cached: only the preprocessing is timed
    started = time.perf_counter()
    for _ in range(repeats):
        parse_program(definition)
    return (time.perf_counter() - started) / repeats * 1000


def plain_moto_throughput(counts: list[int]) -> list[float]:
    import requests
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from sim.aws import moto_seams

    assert moto_seams.running_hosts() == 0, "plain moto must run with every stepbricks seam uninstalled"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        requests.post(f"{url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10)
        throughput(url, 2)  # moto's interpreter imported and warm before anything is timed, as on our side
        return [throughput(url, n) for n in counts]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=10)
    parser.add_argument("--executions", type=int, default=50)
    parser.add_argument("--transitions-only", action="store_true", help="only leg 3 (seconds, not minutes)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # plain moto's server logs every request
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # the back-off leg's failures are expected

    counts = [1, args.executions]
    # Plain moto first, before any simulator has patched (and restored) moto in this process.
    plain = plain_moto_throughput(counts)
    with tempfile.TemporaryDirectory() as state, Simulator.start(state_dir=Path(state), databricks=False) as sim:
        throughput(sim.aws.endpoint, 2)  # warm, as plain moto's is
        ours = [throughput(sim.aws.endpoint, n) for n in counts]
        preprocessing = preprocess_ms(PASS_STATES)
    if args.transitions_only:
        _print_transitions(counts, ours, plain, preprocessing)
        return

    v_poll, v_poll_waits, v_hour, v_hour_waits = measure_waits(False, args.polls, 30)
    r_poll, r_poll_waits, r_hour, r_hour_waits = measure_waits(True, args.polls, 1)
    r_poll_full = r_poll - r_poll_waits + v_poll_waits
    r_hour_full = r_hour - r_hour_waits + v_hour_waits

    print(f"{'leg':58} {'virtual s':>10} {'real s':>10} {'ratio':>8}")
    print(f"{f'seed 003 polling: {args.polls} polls, {v_poll_waits} s of 30 s waits':58} {v_poll:10.2f} "
          f"{r_poll_full:10.1f} {r_poll_full / v_poll:7.0f}x")
    print(f"{f'hour of waits + back-off ({v_hour_waits} s simulated)':58} {v_hour:10.2f} "
          f"{r_hour_full:10.1f} {r_hour_full / v_hour:7.0f}x")
    print(f"  real legs measured scaled down: polling {r_poll:.2f} s with 1 s waits, hour {r_hour:.2f} s with "
          f"{r_hour_waits} s of waits; extrapolated as measured - scaled waits + full waits")
    print()
    _print_transitions(counts, ours, plain, preprocessing)


def _print_transitions(counts: list[int], ours: list[float], plain: list[float], preprocessing: float) -> None:
    print(f"{'state transitions / s (Pass chains, see chain_length)':58} {'stepbricks':>10} {'moto':>10} {'ratio':>8}")
    for n, a, b in zip(counts, ours, plain, strict=True):
        print(f"{f'{n} concurrent execution(s)':58} {a:10.0f} {b:10.0f} {a / b:7.2f}x")
    print(f"  each execution's components built from a cached {PASS_STATES}-state definition: {preprocessing:.2f} ms")
    for n, a, b in zip(counts, ours, plain, strict=True):
        report(f"state transitions/s ÷ plain moto's server, {n} concurrent execution(s)", a / b, "x", 3.0,
               at_most=False)


if __name__ == "__main__":
    main()
