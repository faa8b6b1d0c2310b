"""The simulator's JVM tuning and shared botocore loader, each against what it replaced, in one run.

Run: .venv/bin/python bench/bench_jvm.py [--reps N]

1. One fresh process per leg: a local SparkSession, then N 5,000-row CSV → de-duplicate → parquet → count
   rounds; the process tree's CPU (`bench/tree_cpu.py` sampling) and wall, legs alternating:
   the JVM's defaults, `sim.compute.jvm`'s options without the class archive, and with it.
2. In this process: CPU per boto3 client, a plain session's against `sim.boto_clients`'.

Suite context: JVMs were half of `make test`'s CPU, and client creation a third of its pytest processes'.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tree_cpu import measure

_LEG = r"""
import os, random, sys, time
from pyspark.sql import SparkSession
scratch, reps, options = sys.argv[1], int(sys.argv[2]), sys.argv[3]
started = time.monotonic()
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.local.dir", scratch)
         .config("spark.driver.extraJavaOptions", f"{options} -Djava.io.tmpdir={scratch}").getOrCreate())
session_s = time.monotonic() - started
rng = random.Random(7)
with open(f"{scratch}/in.csv", "w") as out:
    out.write("id,name,amount\n")
    out.writelines(f"{i},n{i % 97},{rng.random()}\n" for i in range(5000))
for rep in range(reps):
    frame = spark.read.option("header", True).csv(f"{scratch}/in.csv").dropDuplicates(["name"])
    frame.write.mode("overwrite").parquet(f"{scratch}/out{rep}")
    assert spark.read.parquet(f"{scratch}/out{rep}").count() == 97
print(f"session {session_s:.1f} s", file=sys.stderr)
spark.stop()
"""


def _jvm_legs(reps: int, rounds: int) -> None:
    from sim.compute import jvm

    archive = jvm.class_archive(build=False)
    if archive is None:
        print("(no class archive yet: building it first)", flush=True)
        path = jvm.archive_path()
        assert path is not None
        jvm.build(path)
        archive = jvm.class_archive(build=False)
    tuned = jvm.tuning()
    legs = {"JVM defaults": "", "C1 + serial GC": tuned, "C1 + serial GC + class archive": jvm.options()}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in legs}
    for _ in range(rounds):
        for name, options in legs.items():
            with tempfile.TemporaryDirectory(prefix="bench-jvm-") as scratch:
                run = measure([sys.executable, "-c", _LEG, scratch, str(reps), options])
            assert run["exit"] == 0, run
            results[name].append((run["tree_cpu_s"], run["wall_s"]))
    base = min(cpu for cpu, _ in results["JVM defaults"])
    print(f"\n| local SparkSession + {reps} small ETL rounds, fresh process | tree CPU s (min of {rounds}) "
          f"| wall s (min) | CPU vs defaults |\n|---|---|---|---|")
    for name, runs in results.items():
        cpu, wall = min(c for c, _ in runs), min(w for _, w in runs)
        print(f"| {name} | {cpu:.1f} | {wall:.1f} | {cpu / base:.2f}x |")
    print(f"(archive: {archive})")


def _client_legs(n: int = 20) -> None:
    import boto3

    from sim import boto_clients

    def cpu(make) -> float:
        make()
        started = time.process_time()
        for _ in range(n):
            make()
        return (time.process_time() - started) / n * 1000

    plain = cpu(lambda: boto3.session.Session(region_name="us-east-1").client("stepfunctions"))
    shared = cpu(lambda: boto_clients.client("stepfunctions", region_name="us-east-1"))
    print(f"\n| boto3 client ({n} each) | CPU ms per client |\n|---|---|\n| a plain boto3 session's | {plain:.1f} |\n"
          f"| sim.boto_clients (shared loader) | {shared:.1f} ({plain / shared:.1f}x less) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=8, help="ETL rounds per JVM")
    parser.add_argument("--rounds", type=int, default=2, help="times each leg runs (alternating)")
    args = parser.parse_args()
    _client_legs()
    _jvm_legs(args.reps, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
