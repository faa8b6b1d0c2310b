"""The `test_state` fixture's cost: starting its moto server, and one TestState call on a state of a shipped
state machine (a Choice at INFO, a mocked Task at DEBUG, a mocked Map at DEBUG), against a one-state
Express execution (StartSyncExecution of a Pass) on the same server as the yardstick.

Run: .venv/bin/python bench/bench_test_state.py [--calls N]

All legs run in one process on one server, side by side; the first call of each leg is a warm-up (the
first TestState of a process also loads moto's ASL parser, about a second).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import report

LANDED = {"bucket": "stepbricks-raw", "key": "incoming/customers.csv"}


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
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()

    from harness.state_tester import StateTester, state_tester_server

    started = time.perf_counter()
    with state_tester_server() as client:
        start_s = time.perf_counter() - started
        tester = StateTester(client)
        first = time.perf_counter()
        tester("pipeline", "IsFileValid", input={"validation": {"isValid": True}})
        first_s = time.perf_counter() - first
        arn = client.create_state_machine(
            name="bench-pass", type="EXPRESS", roleArn="arn:aws:iam::210987654321:role/bench",
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        legs = {
            "StartSyncExecution of a one-Pass Express machine (yardstick)":
                lambda: client.start_sync_execution(stateMachineArn=arn, input="{}"),
            "test_state: a Choice of the polling pipeline, INFO":
                lambda: tester("pipeline", "IsFileValid", input={**LANDED, "validation": {"isValid": True}}),
            "test_state: a Task mocked to fail, retrier backoff, DEBUG":
                lambda: tester("pipeline", "StartEtl", input=LANDED, inspection_level="DEBUG",
                               mock={"errorOutput": {"error": "Lambda.ServiceException", "cause": "down"}},
                               state_configuration={"retrierRetryCount": 1}),
            "test_state: a Task mocked to succeed, each processing step, DEBUG":
                lambda: tester("pipeline", "ValidateFile", input=LANDED, inspection_level="DEBUG",
                               mock={"result": {"isValid": True}}),
            "test_state: the Map variant's Map, mocked, DEBUG":
                lambda: tester("map", "ProcessFiles", input={"listing": {"files": [LANDED]}},
                               inspection_level="DEBUG", mock={"result": [{"status": "processed"}]}),
        }
        medians = {name: _median_ms(leg, args.calls) for name, leg in legs.items()}
    yardstick = next(iter(medians.values()))
    print(f"{'leg':<66}{'median ms':>10}{'x yardstick':>13}")
    for name, median in medians.items():
        print(f"{name:<66}{median:>10.1f}{median / yardstick:>13.1f}")
    report("test_state fixture: server start (moto's import included)", start_s, "s", 5.0)
    report("test_state fixture: first call of the process (parser warm-up)", first_s, "s", 10.0)
    for name, median in list(medians.items())[1:]:
        report(f"{name.removeprefix('test_state: ')} (median)", median, "ms", 100)


if __name__ == "__main__":
    main()
