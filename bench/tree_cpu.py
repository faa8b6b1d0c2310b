"""Run a command and report what its whole process tree cost: wall, CPU seconds, Spark starts.

`/usr/bin/time` misses most of a test run's CPU: a cluster worker's JVM is orphaned when its worker is
killed, and the CPU of a process nobody waits for is never added to its ancestors' rusage. This samples
`/proc` every 0.2 s instead, keeping the last CPU time seen of every process that was ever a descendant
(what a process spends in its last 0.2 s is missed). Spark starts are counted by the workers themselves
(`STEPBRICKS_SPARK_START_LOG`).

    python bench/tree_cpu.py -- .venv/bin/python -m pytest -n 3 tests/...
    python bench/tree_cpu.py --processes-out P.jsonl -- ...   # and every process: kind, CPU, causing test
    python bench/tree_cpu.py --report P.jsonl                  # CPU by kind of process and by test file

Each process is attributed to the test whose `PYTEST_CURRENT_TEST` it inherited (pytest sets it in the
environment while a test runs), so a JVM started by a cluster worker counts for the test that started it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def _kind(pid: int) -> str:
    """What a process is, from its command line: `java`, `python -m MODULE`, `python SCRIPT`, …"""
    try:
        argv = [
            a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a
        ]
    except OSError:
        return "?"
    if not argv:
        return "?"
    exe = os.path.basename(argv[0])
    if exe == "java":
        main = next((a for a in argv if a.startswith("org.apache.")), "")
        return f"java {main.rsplit('.', 1)[-1]}".strip()
    if exe.startswith("python"):
        rest = argv[1:]
        while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c"):
            rest = rest[1:]
        if rest[:1] == ["-m"] and len(rest) > 1:
            return f"python -m {rest[1]}" + (
                " " + rest[2]
                if rest[1] in ("stepbricks", "pytest") and len(rest) > 2 and not rest[2].startswith("-")
                else ""
            )
        if rest[:1] == ["-c"]:
            return "python -c " + re.sub(r"\s+", " ", rest[1])[:60] if len(rest) > 1 else "python -c"
        if not rest:
            return "python"
        verb = next((a for a in rest[1:] if not a.startswith("-")), "")
        return f"python {os.path.basename(rest[0])} {verb}".strip()
    return exe + (" " + os.path.basename(argv[1]) if len(argv) > 1 and not argv[1].startswith("-") else "")


def _test(pid: int) -> str:
    """The test running when this process (or the ancestor whose environment it copied) started."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return ""
    for entry in environ:
        if entry.startswith(b"PYTEST_CURRENT_TEST="):
            return entry.split(b"=", 1)[1].decode(errors="replace").rsplit(" (", 1)[0]
    return ""


def measure(command: list[str], interval: float = 0.2, processes_out: Path | None = None) -> dict[str, float]:
    kept = os.environ.get("STEPBRICKS_SPARK_START_LOG")  # the caller's own log is kept, to be read
    log = Path(kept) if kept else Path(tempfile.mkstemp(prefix="spark-starts-")[1])
    env = {**os.environ, "STEPBRICKS_SPARK_START_LOG": str(log)}
    started = time.monotonic()
    root = subprocess.Popen(command, env=env)
    seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> last CPU seconds
    about: dict[tuple[int, int], tuple[str, str]] = {}  # (pid, start time) -> (kind, test)
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
                known = about.get((pid, start))
                if processes_out is not None:  # the kind is read again: a fork execs bash, which execs java
                    kind = _kind(pid)
                    if known is None or kind != "?":
                        about[(pid, start)] = (kind, known[1] if known else _test(pid))
        time.sleep(interval)
    wall = time.monotonic() - started
    starts = len(log.read_text().splitlines()) if log.exists() else 0
    if not kept:
        log.unlink(missing_ok=True)
    if processes_out is not None:
        with processes_out.open("w") as sink:
            for key, cpu in seen.items():
                kind, test = about.get(key, ("?", ""))
                sink.write(json.dumps({"pid": key[0], "cpu": cpu, "kind": kind, "test": test}) + "\n")
    return {
        "exit": root.returncode,
        "wall_s": round(wall, 1),
        "tree_cpu_s": round(sum(seen.values()), 1),
        "processes": len(seen),
        "spark_starts": starts,
    }


def report(path: Path, top: int = 30) -> str:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    lines = []
    for title, key in (
        ("kind of process", lambda r: r["kind"]),
        ("test file", lambda r: r["test"].split("::")[0] or "(no test)"),
        ("test file, kind", lambda r: f"{r['test'].split('::')[0] or '(no test)'} | {r['kind']}"),
    ):
        cpu: dict[str, list[float]] = {}
        for record in records:
            row = cpu.setdefault(key(record), [0.0, 0])
            row[0] += record["cpu"]
            row[1] += 1
        lines += [f"| {title} | processes | CPU s |", "|---|---|---|"]
        for name, (seconds, n) in sorted(cpu.items(), key=lambda item: -item[1][0])[:top]:
            lines.append(f"| {name} | {n} | {seconds:.1f} |")
        lines.append(f"| **all** | {len(records)} | {sum(r['cpu'] for r in records):.1f} |\n")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes-out", type=Path, help="write every process's kind, CPU and test here")
    parser.add_argument("--report", type=Path, help="print the CPU by kind and by test file of such a file")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.report:
        print(report(args.report))
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    result = measure(command, processes_out=args.processes_out)
    print(" ".join(f"{k}={v}" for k, v in result.items()), file=sys.stderr)
    return int(result["exit"])


if __name__ == "__main__":
    sys.exit(main())
