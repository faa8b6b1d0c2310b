"""A process and its descendants, read from /proc (Linux): for memory benchmarks and the loopback audit."""

from __future__ import annotations

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
