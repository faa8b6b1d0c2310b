"""sim/data + etl: generator throughput and memory, and the ETL's cost over a naive Spark copy of the same file.

Run: .venv/bin/python bench/bench_etl.py [--rows N] [--dirty-share F]

Measured in one run on one warm local[1] SparkSession:
- generator: rows/s for N/10 and N rows, and peak RSS of each generating process (streaming keeps it flat);
- baseline: spark.read.csv (all strings) → Parquet, nothing checked: the floor any ETL pays;
- run_etl: parse, validate with reasons, de-duplicate, derive, write processed + quarantine + manifest;
- run_etl again on the same input: the idempotent skip (manifest matches).
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


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--dirty-share", type=float, default=0.05)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-etl-"))
    try:
        small = generate_in_subprocess(work / "small.csv", args.rows // 10, args.dirty_share)
        big = generate_in_subprocess(work / "in.csv", args.rows, args.dirty_share)

        from pyspark.sql import SparkSession

        from etl.pipeline import run_etl

        spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", "1").getOrCreate())  # fmt: skip
        spark.sparkContext.setLogLevel("ERROR")
        spark.read.text(str(work / "small.csv")).count()  # warm the JVM before measuring

        def baseline():
            df = spark.read.option("header", "true").csv(str(work / "in.csv"))
            df.write.mode("overwrite").parquet(str(work / "baseline"))

        def etl():
            return run_etl(spark, source_uri=str(work / "in.csv"), processed_root=str(work / "processed"),
                           quarantine_root=str(work / "quarantine"), processing_date="2026-01-02")  # fmt: skip

        base_s, _ = timed(baseline)
        etl_s, summary = timed(etl)
        skip_s, again = timed(etl)
        assert not summary["skipped"] and again["skipped"]
        rows = args.rows
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
            ("baseline: read csv → parquet", rows, base_s, 1.0, None),
            ("run_etl (full)", rows, etl_s, etl_s / base_s, None),
            ("run_etl again (manifest skip)", rows, skip_s, skip_s / base_s, None),
        ]
        for name, n, seconds, ratio, rss in table:
            print(f"{name:<34}{n:>10}{seconds:>10.2f}{n / seconds:>12.0f}"
                  f"{'' if ratio is None else f'{ratio:.2f}':>8}{'' if rss is None else f'{rss:.0f}':>13}")  # fmt: skip
        print("ratio: generate rows are vs the N/10 run (10 = linear); Spark rows are vs the baseline copy.")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
