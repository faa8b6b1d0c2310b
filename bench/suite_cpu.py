"""Where the test suite's CPU goes, per test file: a pytest plugin and its report.

The suite is CPU-bound on 2 cores, so wall time per test (`--durations`) says little about what to cut:
a test that waits on a cluster costs wall but no CPU, one that starts a JVM costs 15 CPU s in another
process. The plugin records, for every test, its wall time, the CPU of the pytest process (every thread:
moto's server, the workspace, the interpreter) and the CPU of its live descendants (JVMs, cluster and
Lambda workers), sampled from `/proc` at the test's start and end; a process that ends within the test is
missed, so the descendants' figure is a lower bound.

    python -m pytest -n 3 -p bench.suite_cpu --suite-cpu-out=DIR ...
    python bench/suite_cpu.py DIR          # the table, heaviest files first
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


def _descendants_cpu(root: int) -> float:
    """CPU seconds of the live processes below `root` (not `root` itself)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    below, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if pid not in below and parent in below:
                below.add(pid)
                grew = True
    below.discard(root)
    return sum(cpu.get(pid, 0.0) for pid in below)


def pytest_addoption(parser: Any) -> None:
    parser.addoption("--suite-cpu-out", default=None, help="directory for the per-test CPU records")


_started: dict[str, tuple[float, float, float]] = {}
_out: list[Path] = []  # the records' directory, once pytest is configured with --suite-cpu-out


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _started[nodeid] = (time.monotonic(), time.process_time(), _descendants_cpu(os.getpid()))


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    start = _started.pop(nodeid, None)
    if not _out or start is None:
        return
    wall, own, below = start
    record = {"test": nodeid, "wall": time.monotonic() - wall, "own": time.process_time() - own,
              "below": max(0.0, _descendants_cpu(os.getpid()) - below),
              "end": time.time()}  # when each worker finished each test: the run's tail, worker by worker
    with open(_out[0] / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.jsonl", "a") as sink:
        sink.write(json.dumps(record) + "\n")


def pytest_configure(config: Any) -> None:
    out = config.getoption("--suite-cpu-out")
    # Under xdist the controller sees every test's log hooks too: only the processes that ran them record.
    controller = getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput")
    if out and not controller:
        Path(out).mkdir(parents=True, exist_ok=True)
        _out.append(Path(out))


def report(directory: Path, top: int) -> str:
    by_file: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for path in directory.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            row = by_file[record["test"].split("::")[0]]
            row[0] += record["wall"]
            row[1] += record["own"]
            row[2] += record["below"]
            row[3] += 1
    rows = sorted(by_file.items(), key=lambda item: -(item[1][1] + item[1][2]))
    total = [sum(r[i] for _, r in rows) for i in range(4)]
    lines = ["| file | tests | wall s | pytest CPU s | descendants' CPU s |", "|---|---|---|---|---|"]
    for name, (wall, own, below, n) in rows[:top]:
        lines.append(f"| {name} | {n} | {wall:.1f} | {own:.1f} | {below:.1f} |")
    lines.append(f"| **all {len(rows)} files** | {total[3]} | {total[0]:.1f} | {total[1]:.1f} | {total[2]:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    print(report(args.directory, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
