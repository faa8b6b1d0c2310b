"""sim/data + etl: generator throughput and memory, and the ETL's cost over a naive Spark copy of the same file.

Run: .venv/bin/python bench/bench_etl.py [--rows N] [--small-rows M] [--dirty-share F]

Measured in one run on one warm SparkSession configured like a simulator cluster (local[1], 2 shuffle
partitions; the JVM is warmed by a plain read before anything is timed):
- generator: rows/s for N/10 and N rows, and peak RSS of each generating process (streaming keeps it flat);
- run_etl on M rows (default 5,000), the first ETL of the session (the issue 17 row: target <= 1.5 s),
  then again on another copy of the file: the steady cost once Spark has compiled the ETL's plans;
- baseline: spark.read.csv (all strings) → Parquet, nothing checked: the floor any ETL pays;
- run_etl on N rows: parse, validate with reasons, de-duplicate, derive, write processed + quarantine +
  manifest, as a ratio to the baseline (the issue 17 row: target <= 2×);
- run_etl again on the same input: the idempotent skip (manifest matches).
The last lines print the two issue 17 rows with their targets side by side.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.table import report  # noqa: E402

GENERATE = """
import json, resource, sys, time
from sim.data import generate
t = time.perf_counter()
r = generate(sys.argv[1], rows=int(sys.argv[2]), seed=0, dirty_share=float(sys.argv[3]))
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bytes": r.bytes_written}))
"""


def generate_in_subprocess(path: Path, rows: int, dirty: float) -> dict:
    out = subprocess.run([sys.executable, "-c", GENERATE, str(path), str(rows), str(dirty)], cwd=ROOT,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout)


def jobs_and_round_trips(spark, fn):
    """(Spark jobs, Python→JVM py4j calls) of one call of `fn`: load-independent fixed costs of a run."""
    import py4j.clientserver as cs

    sc, calls, original = spark.sparkContext, [0], cs.ClientServerConnection.send_command

    def counted(self, command, *args, **kwargs):
        calls[0] += 1
        return original(self, command, *args, **kwargs)

    sc.setJobGroup("bench-etl-count", "count jobs")
    cs.ClientServerConnection.send_command = counted
    try:
        fn()
    finally:
        cs.ClientServerConnection.send_command = original
        sc.setLocalProperty("spark.jobGroup.id", None)
    return len(sc.statusTracker().getJobIdsForGroup("bench-etl-count")), calls[0]


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small-rows", type=int, default=5_000)
    parser.add_argument("--dirty-share", type=float, default=0.05)
    parser.add_argument("--jvm-defaults", action="store_true", help="the JVM's defaults, not sim.compute.jvm's")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-etl-"))
    try:
        small = generate_in_subprocess(work / "small.csv", args.rows // 10, args.dirty_share)
        big = generate_in_subprocess(work / "in.csv", args.rows, args.dirty_share)
        generate_in_subprocess(work / "five.csv", args.small_rows, args.dirty_share)
        # another name, another batch: each copy is a full run, not a skip
        for copy in ("five-again.csv", "five-counted.csv"):
            shutil.copy(work / "five.csv", work / copy)

        from pyspark.sql import SparkSession

        from etl.pipeline import run_etl
        from sim.compute import jvm

        # The simulator cluster's session: its conf and its JVM's tuning (`--jvm-defaults`: the JVM's own).
        options = "" if args.jvm_defaults else jvm.options()
        spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false").config("spark.default.parallelism", "1")
                 .config("spark.driver.extraJavaOptions", options)
                 .config("spark.sql.shuffle.partitions", "2").getOrCreate())  # fmt: skip
        spark.sparkContext.setLogLevel("ERROR")
        spark.read.text(str(work / "small.csv")).count()  # warm the JVM before measuring

        def baseline():
            df = spark.read.option("header", "true").csv(str(work / "in.csv"))
            df.write.mode("overwrite").parquet(str(work / "baseline"))

        def etl(name: str = "in.csv"):
            return lambda: run_etl(spark, source_uri=str(work / name), processed_root=str(work / "processed"),
                                   quarantine_root=str(work / "quarantine"), processing_date="2026-01-02")  # fmt: skip

        first_s, first = timed(etl("five.csv"))
        steady_s, steady = timed(etl("five-again.csv"))
        jobs, round_trips = jobs_and_round_trips(spark, etl("five-counted.csv"))
        base_s, _ = timed(baseline)
        etl_s, summary = timed(etl())
        skip_s, again = timed(etl())
        assert not (first["skipped"] or steady["skipped"] or summary["skipped"]) and again["skipped"]
        rows, small_rows = args.rows, args.small_rows
        print(f"rows={rows} dirty_share={args.dirty_share} quarantined={summary['rows_quarantined']}")
        print(f"{'step':<34}{'rows':>10}{'seconds':>10}{'rows/s':>12}{'ratio':>8}{'peak RSS MB':>13}")
        table = [
            ("generate csv (N/10, subprocess)", rows // 10, small["seconds"], None, small["rss_mb"]),
            (
                "generate csv (N, subprocess)",
                rows,
                big["seconds"],
                big["seconds"] / small["seconds"],
                big["rss_mb"],
            ),
            ("run_etl (first of the session)", small_rows, first_s, None, None),
            ("run_etl (next, other file)", small_rows, steady_s, None, None),
            ("baseline: read csv → parquet", rows, base_s, 1.0, None),
            ("run_etl (full)", rows, etl_s, etl_s / base_s, None),
            ("run_etl again (manifest skip)", rows, skip_s, skip_s / base_s, None),
        ]
        for name, n, seconds, ratio, rss in table:
            print(f"{name:<34}{n:>10}{seconds:>10.2f}{n / seconds:>12.0f}"
                  f"{'' if ratio is None else f'{ratio:.2f}':>8}{'' if rss is None else f'{rss:.0f}':>13}")  # fmt: skip
        print("ratio: generate rows are vs the N/10 run (10 = linear); Spark rows are vs the baseline copy.")
        print()
        report(f"run_etl on {small_rows:,} rows, warm SparkSession (first run)", first_s, "s", 1.5)
        report(f"run_etl on {small_rows:,} rows, warm SparkSession (next run)", steady_s, "s", 1.5)
        print(f"  (per run: {jobs} Spark jobs, {round_trips:,} py4j calls)")
        report(f"run_etl on {rows:,} rows ÷ read.csv → parquet, same run", etl_s / base_s, "x", 2.0)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
