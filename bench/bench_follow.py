"""Following an execution: how long after it ends a follower knows, polling on a timer against the history waiter.

Run: .venv/bin/python bench/bench_follow.py [--executions N]

Both legs in one run, alternated, on one `AwsSimulator`: each execution waits 1 s, and the follower starts at a
different phase each time (as a flight's end falls anywhere between two polls). `harness.follow.follow` polls
GetExecutionHistory and DescribeExecution every 0.5 s; one leg sleeps between polls with `time.sleep`, the other
with `AwsSimulator.history_waiter()`, which `stepbricks run` uses. Not an issue-17 row: printed, not tabled.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WAIT_S = 1.0
DEFINITION = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                         "B": {"Type": "Wait", "Seconds": int(WAIT_S), "Next": "C"},
                                         "C": {"Type": "Pass", "End": True}}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executions", type=int, default=20)
    args = parser.parse_args()

    from harness.follow import follow
    from sim.aws import AwsSimulator

    with tempfile.TemporaryDirectory() as state, AwsSimulator.start(state_dir=Path(state)) as aws:
        sfn = aws.client("stepfunctions")
        machine = sfn.create_state_machine(name="follow", definition=json.dumps(DEFINITION),
                                           roleArn="arn:aws:iam::123456789012:role/follow")["stateMachineArn"]
        late: dict[str, list[float]] = {"time.sleep": [], "history_waiter": []}
        for i in range(args.executions):
            for leg, times in late.items():
                started = time.perf_counter()
                execution = aws.start_execution(machine, {"i": i})
                time.sleep((i % 10) * 0.05)  # the polls at another phase each time
                follow(sfn, execution, sleep=time.sleep if leg == "time.sleep" else aws.history_waiter())
                times.append(time.perf_counter() - started - WAIT_S)
    for leg, times in late.items():
        print(f"{leg:<16} knows {statistics.median(times) * 1000:6.1f} ms after the end (median), "
              f"{max(times) * 1000:6.1f} ms at most, {args.executions} executions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
