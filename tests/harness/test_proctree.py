"""The process-tree readings the benchmarks divide by: CPU of a tree, counted through parents."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from harness.proctree import descendants, tree_cpu_seconds

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
