"""A process and its descendants, read from /proc (Linux): for memory benchmarks and the loopback audit."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple


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
    """Summed resident memory of `pid` and its descendants, in MB, each address space once (`resident_kb`)."""
    return sum(resident_kb(_memory_records(descendants(pid))).values()) / 1024


class MemoryRecord(NamedTuple):
    parent: int
    command: bytes
    rss_kb: int
    size_kb: int


def resident_kb(records: Mapping[int, MemoryRecord]) -> dict[int, int]:
    """Resident KB by pid, a child that has not exec'd yet counted as 0.

    Between `fork`/`vfork` and `exec` a child reports its parent's whole resident set (a `vfork` child
    shares the parent's memory outright): the JVM spawns `chmod` for every file Hadoop's local file system
    creates, and a 0.5 s sampler that caught one such child counted the ~1-2 GB JVM twice, which is how a
    100-file load once "peaked" at 5.2 GB with 3.0 GB in its processes. Such a child is told by its parent's
    command line and the very same resident and virtual sizes."""
    found = {}
    for pid, record in records.items():
        parent = records.get(record.parent)
        not_yet_exec = parent is not None and (parent.command, parent.rss_kb, parent.size_kb) == (
            record.command, record.rss_kb, record.size_kb)
        found[pid] = 0 if not_yet_exec else record.rss_kb
    return found


def _memory_records(pids: set[int]) -> dict[int, MemoryRecord]:
    records = {}
    for p in pids:
        try:
            status = dict(line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines()
                          if ":" in line)
            command = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        kb = {key: int(status.get(key, "0 kB").split()[0]) for key in ("VmRSS", "VmSize")}
        records[p] = MemoryRecord(int(status.get("PPid", "0")), command, kb["VmRSS"], kb["VmSize"])
    return records


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
    counted = resident_kb(_memory_records(descendants(pid)))
    for p in (p for p, kb in counted.items() if kb):  # a child not exec'd yet shares its parent's pages
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:])
        except (OSError, ValueError):
            continue
        rss, pss = (int(fields.get(k, "0 kB").split()[0]) / 1024 for k in ("Rss", "Pss"))
        kind = kind_of(p)
        old = found.get(kind, (0.0, 0.0))
        found[kind] = (old[0] + rss, old[1] + pss)
    return found
