"""Cluster cold start, and warm notebook-task latency vs the same code exec'd in a warm Python process.

Usage: python bench/bench_cluster.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from sim.compute.contract import TaskInvocation
from sim.compute.manager import ClusterManager

N = 20


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    trivial = tmp / "trivial.py"
    trivial.write_text("# Databricks notebook source\nx = sum(range(100))\n# COMMAND ----------\ndbutils.notebook.exit(str(x))\n")
    sparky = tmp / "spark.py"
    sparky.write_text("# Databricks notebook source\ndbutils.notebook.exit(str(spark.range(1000).count()))\n")

    with ClusterManager(tmp / "state", {}) as manager:
        t0 = time.perf_counter()
        cluster = manager.get(manager.default_cluster_id())
        cluster.wait_until_running(600)
        cold = time.perf_counter() - t0
        startup_ms = cluster.session.session_startup_ms

        def latency(path: Path, n: int) -> float:
            out = []
            for i in range(n):
                t = time.perf_counter()
                invocation = TaskInvocation(run_id=i, task_key="b", attempt_number=0, kind="notebook", source_path=path)
                result = cluster.run(invocation).wait(600)
                assert result is not None and result.outcome == "SUCCESS", result
                out.append(time.perf_counter() - t)
            return statistics.median(out)

        warm_trivial = latency(trivial, N)
        warm_spark = latency(sparky, 10)

    code = compile("x = sum(range(100))\nresult = str(x)\n", str(trivial), "exec")
    direct = []
    for _ in range(N):
        t = time.perf_counter()
        exec(code, {})
        direct.append(time.perf_counter() - t)
    direct_ms = statistics.median(direct) * 1000
    print(f"{'measure':<52}{'ms':>10}")
    print(f"{'cluster cold start (create -> RUNNING, wall)':<52}{cold * 1000:>10.0f}")
    print(f"{'  of which SparkSession + first action (worker)':<52}{startup_ms:>10.0f}")
    print(f"{f'warm trivial notebook task, median of {N}':<52}{warm_trivial * 1000:>10.1f}")
    print(f"{'warm notebook with spark.range(1000).count(), median':<52}{warm_spark * 1000:>10.1f}")
    print(f"{'same trivial code exec in a warm process, median':<52}{direct_ms:>10.3f}")
    print(f"{'ratio warm task / direct exec':<52}{warm_trivial * 1000 / direct_ms:>10.0f}x")
    print(f"{'ratio cold start / warm trivial task':<52}{cold / warm_trivial:>10.0f}x")


if __name__ == "__main__":
    main()
