"""ml.scoring: the evaluation's exact metrics over scored rows, its Spark jobs and its round trips to the JVM.

Run: .venv/bin/python bench/bench_scoring.py [--rows N] [--repeats R]

On one local SparkSession (`local[1]`, 2 shuffle partitions, the simulator's JVM options), `exact_metrics` over
N synthetic scored rows (`y`, `p`): once to warm the session, then R times; prints the median and each time,
the Spark jobs and the Python→JVM py4j calls of one call (a fixed cost whatever N is: docs/performance.md,
session 11, where building the expressions with the Column API made ~1,300 of them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_etl import jobs_and_round_trips


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import numpy as np
    from pyspark.sql import SparkSession

    from ml.scoring import exact_metrics
    from sim.compute import jvm

    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.extraJavaOptions", jvm.options()).getOrCreate())  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, args.rows)
    p = np.clip(rng.random(args.rows) * 0.6 + y * 0.3, 0, 1).round(3)  # ties, as a model's scores have
    scored = spark.createDataFrame([(int(a), float(b)) for a, b in zip(y, p, strict=True)], "y long, p double")
    exact_metrics(scored)  # the session's first plans compiled before anything is timed
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        exact_metrics(scored)
        times.append(time.perf_counter() - started)
    jobs, calls = jobs_and_round_trips(spark, lambda: exact_metrics(scored))
    print(f"exact_metrics over {args.rows:,} scored rows, warm: median {statistics.median(times):.3f} s "
          f"({', '.join(f'{t:.3f}' for t in times)})")
    print(f"  per call: {jobs} Spark jobs, {calls:,} py4j calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
