"""Teardown: how long `AwsSimulator.stop()` takes, against what stopping its two servers plainly costs.

Run: .venv/bin/python bench/bench_teardown.py [--repeats N]

Both legs in one run. The plain leg starts what an `AwsSimulator` serves on (moto's `ThreadedMotoServer`
and a `ThreadingHTTPServer` like the Lambda endpoint) and stops them with `shutdown()`, which waits for
each server loop's next poll (0.5 s); the simulator's leg is the whole `stop()` (workers, moto's reset,
both servers, woken at once by `sim.aws.prompt_stop`). Every test that starts a simulator pays its stop,
and `stepbricks run` pays one at its end. Not an issue-17 row: printed, not tabled.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def simulator_stop() -> float:
    from sim.aws import AwsSimulator

    with tempfile.TemporaryDirectory() as state:
        aws = AwsSimulator.start(state_dir=Path(state))
        started = time.perf_counter()
        aws.stop()
        return time.perf_counter() - started


def plain_stop() -> float:
    from sim.aws.moto_seams import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    started = time.perf_counter()
    endpoint.shutdown()
    endpoint.server_close()
    moto.stop()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    simulator_stop()  # imports and moto's first reset out of the figures
    legs: dict[str, list[float]] = {"AwsSimulator.stop()": [], "the two servers stopped plainly": []}
    for _ in range(args.repeats):
        legs["AwsSimulator.stop()"].append(simulator_stop())
        legs["the two servers stopped plainly"].append(plain_stop())
    for name, times in legs.items():
        print(f"{name:<36} median {statistics.median(times):6.3f} s   ({', '.join(f'{t:.3f}' for t in times)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
