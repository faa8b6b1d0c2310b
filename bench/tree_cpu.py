"""Run a command and report what its whole process tree cost: wall, CPU seconds, Spark starts.

`/usr/bin/time` misses most of a test run's CPU: a cluster worker's JVM is orphaned when its worker is
killed, and the CPU of a process nobody waits for is never added to its ancestors' rusage. This samples
`/proc` every 0.2 s instead, keeping the last CPU time seen of every process that was ever a descendant
(what a process spends in its last 0.2 s is missed). Spark starts are counted by the workers themselves
(`STEPBRICKS_SPARK_START_LOG`).

    python bench/tree_cpu.py -- .venv/bin/python -m pytest -n 3 tests/...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, start time in ticks) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, int(fields[19])


def measure(command: list[str], interval: float = 0.2) -> dict[str, float]:
    log = Path(tempfile.mkstemp(prefix="spark-starts-")[1])
    env = {**os.environ, "STEPBRICKS_SPARK_START_LOG": str(log)}
    started = time.monotonic()
    root = subprocess.Popen(command, env=env)
    seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> last CPU seconds
    tree = {root.pid}
    while root.poll() is None:
        stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(int(p))) is not None}
        grew = True
        while grew:  # descendants: a child's parent is in the tree (orphans stay, by pid)
            grew = False
            for pid, (parent, _, _) in stats.items():
                if pid not in tree and parent in tree:
                    tree.add(pid)
                    grew = True
        for pid in tree:
            if pid in stats:
                _, cpu, start = stats[pid]
                seen[(pid, start)] = cpu
        time.sleep(interval)
    wall = time.monotonic() - started
    starts = len(log.read_text().splitlines()) if log.exists() else 0
    log.unlink(missing_ok=True)
    return {"exit": root.returncode, "wall_s": round(wall, 1), "tree_cpu_s": round(sum(seen.values()), 1),
            "processes": len(seen), "spark_starts": starts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    result = measure(command)
    print(" ".join(f"{k}={v}" for k, v in result.items()), file=sys.stderr)
    return int(result["exit"])


if __name__ == "__main__":
    sys.exit(main())
