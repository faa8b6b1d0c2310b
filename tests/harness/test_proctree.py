"""The process-tree readings the benchmarks divide by: CPU of a tree, counted through parents."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from harness.proctree import MemoryRecord, descendants, resident_kb, tree_cpu_seconds, tree_rss_mb

_BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def test_a_live_childs_cpu_counts_in_its_parents_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c", _BURN.format(seconds=0.6) + "time.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and tree_cpu_seconds(child.pid) < 0.6:
            time.sleep(0.05)
        assert child.pid in descendants(os.getpid())
        assert tree_cpu_seconds(child.pid) >= 0.6
        # The parent's tree is its own CPU and the child's (less a clock tick of rounding per process).
        own = time.process_time()
        assert tree_cpu_seconds(os.getpid()) >= own + tree_cpu_seconds(child.pid) - 0.05
    finally:
        child.kill()
        child.wait()


def test_a_child_that_came_and_went_still_counts_through_the_parent_that_reaped_it() -> None:
    before = tree_cpu_seconds(os.getpid())
    subprocess.run([sys.executable, "-c", _BURN.format(seconds=0.5)], check=True)  # run() reaps it
    assert tree_cpu_seconds(os.getpid()) - before >= 0.5


def _record(parent: int, command: bytes, rss_kb: int, size_kb: int) -> MemoryRecord:
    return MemoryRecord(parent, command, rss_kb, size_kb)


def test_a_child_that_has_not_exec_d_yet_is_not_its_parents_memory_twice() -> None:
    # The JVM between vfork and exec of `chmod`: its child reports the JVM's resident set as its own.
    jvm = b"java\0-cp\0spark"
    records = {10: _record(1, jvm, 1_800_000, 4_200_000), 11: _record(10, jvm, 1_800_000, 4_200_000)}
    assert resident_kb(records) == {10: 1_800_000, 11: 0}


def test_forked_workers_that_have_diverged_and_exec_d_children_still_count() -> None:
    daemon = b"python\0-m\0pyspark.daemon"
    records = {
        20: _record(1, daemon, 45_000, 300_000),
        21: _record(20, daemon, 61_000, 310_000),  # a forked Python worker that has run a task
        22: _record(20, b"chmod\x000644\0f", 1_000, 5_000),  # exec'd: its own memory
    }
    assert resident_kb(records) == {20: 45_000, 21: 61_000, 22: 1_000}


def test_the_tree_reading_counts_this_process() -> None:
    status = Path("/proc/self/status").read_text().splitlines()
    own_kb = int(next(line for line in status if line.startswith("VmRSS:")).split()[1])
    assert tree_rss_mb(os.getpid()) >= own_kb / 1024 * 0.9
