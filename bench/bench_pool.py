"""Warm worker pool: N workspaces' compute started and stopped one after the other in one process, each
running one notebook, with the process's worker pool and without it (`sim.compute.pool`), side by side.

Time to first task = from the workspace's cluster manager being created to its first notebook's result
(the cluster's start included). Spark starts are counted by the workers (`STEPBRICKS_SPARK_START_LOG`).

    PYTHONPATH=$PWD .venv/bin/python bench/bench_pool.py --workspaces 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.compute import ClusterManager, TaskInvocation
from sim.compute.pool import WarmPool
from sim.compute.worker import START_LOG

NOTEBOOK = "# Databricks notebook source\nprint(spark.range(3).count())\n"


def one_workspace(root: Path, number: int, pool: WarmPool) -> float:
    notebook = root / f"nb{number}.py"
    notebook.write_text(NOTEBOOK)
    env = {"DATABRICKS_HOST": f"http://ws{number}.invalid", "DATABRICKS_CONFIG_FILE": os.devnull}
    started = time.monotonic()
    with ClusterManager(root / f"ws{number}", env, worker_pool=pool) as manager:
        cluster = manager.get(manager.default_cluster_id())
        result = cluster.run(TaskInvocation(run_id=number, task_key="t", attempt_number=0, kind="notebook",
                                            source_path=notebook)).wait(600)
        elapsed = time.monotonic() - started
    assert result is not None and result.outcome == "SUCCESS", result
    if pool.size:  # the next workspace comes once this one's worker is back (it resets in 0.3-2 s)
        deadline = time.monotonic() + 60
        while not pool.idle() and time.monotonic() < deadline:
            time.sleep(0.05)
    return elapsed


def leg(root: Path, workspaces: int, size: int) -> tuple[list[float], int]:
    log = root / f"starts-{size}.log"
    os.environ[START_LOG] = str(log)
    pool = WarmPool(size=size, idle_seconds=600)
    try:
        times = [one_workspace(root, n, pool) for n in range(workspaces)]
    finally:
        pool.clear()
    return times, len(log.read_text().splitlines()) if log.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp:
        root = Path(tmp)
        results = {}
        for size, name in ((0, "without pool"), (1, "with pool")):
            (root / name.replace(" ", "-")).mkdir()
            results[name] = leg(root / name.replace(" ", "-"), args.workspaces, size)
    print(f"{args.workspaces} workspaces in sequence, one notebook each (seconds to the first task's result)")
    print(f"{'':<14}{'first':>8}{'next (median)':>15}{'total':>8}{'Spark starts':>14}")
    for name, (times, starts) in results.items():
        rest = statistics.median(times[1:]) if len(times) > 1 else float("nan")
        print(f"{name:<14}{times[0]:>8.1f}{rest:>15.2f}{sum(times):>8.1f}{starts:>14}")


if __name__ == "__main__":
    main()
