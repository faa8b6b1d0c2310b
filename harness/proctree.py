"""A process and its descendants, read from /proc (Linux): for memory benchmarks and the loopback audit."""

from __future__ import annotations

import os
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """`pid` and every descendant (clusters, Lambda workers, JVMs)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    seen, stack = set(), [pid]
    while stack:
        p = stack.pop()
        if p not in seen:
            seen.add(p)
            stack.extend(children.get(p, []))
    return seen


def tree_rss_mb(pid: int) -> float:
    """Summed resident memory of `pid` and its descendants, in MB."""
    total = 0
    for p in descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) spent so far by `pid` and its live descendants, with what each has reaped
    of its exited children: a Lambda environment or a Spark Python worker that came and went between two
    readings still counts, through its parent. A process orphaned before it exits (reaped by init) is lost,
    which is why whole-suite figures use bench/tree_cpu.py's sampling instead."""
    ticks = 0
    for p in descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime (stat fields 14-17)
    return ticks / os.sysconf("SC_CLK_TCK")


# What a process of the tree is, by its command line (first match wins).
_KINDS = (("java", "Spark JVMs"), ("sim.compute.worker", "cluster Python"), ("pyspark.daemon", "Spark Python workers"),
          ("pyspark/daemon", "Spark Python workers"), ("lambda_runtime/bootstrap.py", "Lambda environments"))


def kind_of(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "gone"
    return next((name for needle, name in _KINDS if needle in command), "simulator and other")


def tree_memory_mb(pid: int) -> dict[str, tuple[float, float]]:
    """(RSS, PSS) in MB summed by kind of process. RSS counts a page shared by several processes (forked
    workers, the JVM's mapped jars) once per process; PSS divides it among them, so the PSS sum is what the
    machine pays."""
    found: dict[str, tuple[float, float]] = {}
    for p in descendants(pid):
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:])
        except (OSError, ValueError):
            continue
        rss, pss = (int(fields.get(k, "0 kB").split()[0]) / 1024 for k in ("Rss", "Pss"))
        kind = kind_of(p)
        old = found.get(kind, (0.0, 0.0))
        found[kind] = (old[0] + rss, old[1] + pss)
    return found
