"""`stepbricks run` as a whole process against the bare compute a user would write by hand, in one run.

Run: .venv/bin/python bench/bench_run.py [--rows 5000] [--rounds 2]

Issue 17's row: `stepbricks run` (up, deploy, cluster, flight, report; 5,000 generated rows) as a fresh
process, against one fresh process doing the pipeline's compute by hand on the same file: a local
SparkSession (Spark's defaults, as a user writes it) reads the CSV, de-duplicates it and writes Parquet,
then scikit-learn fits a gradient-boosting model on it and scores a holdout. Legs alternate; the ratio is of
the medians (target: at most 1.3x). The bare leg's wall with `sim.compute.jvm`'s JVM options is printed too,
the like-for-like figure (the simulator's clusters run tuned). A fourth leg is a developer's next run with
`STEPBRICKS_WORKER_POOL_DIR` set: the run before it left its idle cluster worker (JVM and SparkSession warm)
for it to lease (sim.compute.shared_pool); an untimed run before the rounds leaves the first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import report
from sim.compute.shared_pool import POOL_DIR_ENV

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.3

_BARE = r"""
import sys
from pyspark.sql import SparkSession
source, work, java_options = sys.argv[1], sys.argv[2], sys.argv[3]
builder = SparkSession.builder.master("local[*]").config("spark.ui.enabled", "false")
if java_options:
    builder = builder.config("spark.driver.extraJavaOptions", java_options)
spark = builder.getOrCreate()
frame = spark.read.option("header", True).option("inferSchema", True).csv(source)
frame.dropDuplicates(["customer_id"]).write.mode("overwrite").parquet(f"{work}/processed")
data = spark.read.parquet(f"{work}/processed").toPandas()
spark.stop()

import pandas as pd
numeric = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls"]
categorical = ["city", "plan"]
for column in numeric + ["churned"]:  # dirty rows hold text where numbers belong: dropped, as a user would
    data[column] = pd.to_numeric(data[column], errors="coerce")
data = data.dropna(subset=numeric + categorical + ["churned"])

from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

train, test = train_test_split(data, test_size=0.2, random_state=7)
model = make_pipeline(
    make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
                            remainder="passthrough"),
    HistGradientBoostingClassifier(random_state=7),
)
model.fit(train[numeric + categorical], train["churned"].astype(int))
auc = roc_auc_score(test["churned"].astype(int), model.predict_proba(test[numeric + categorical])[:, 1])
print(f"bare: {len(data)} rows, AUC {auc:.3f}", file=sys.stderr)
"""


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**_plain_env(), **(env or {})})
    return time.perf_counter() - started


def _plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != POOL_DIR_ENV}  # the plain legs: no shared pool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from sim.compute import jvm, shared_pool
    from sim.data import generate

    stepbricks = str(Path(sys.executable).parent / "stepbricks")
    warm = "stepbricks run, the next (worker left by the last)"
    legs: dict[str, list[float]] = {"stepbricks run": [], "bare compute (Spark's defaults)": [],
                                    "bare compute (tuned JVM)": [], warm: []}
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        work = Path(tmp)
        source = work / "customers.csv"
        generate(source, rows=args.rows, seed=7, fmt="csv", dirty_share=0.02)
        pool_env = {shared_pool.POOL_DIR_ENV: str(work / "pool")}
        # A developer's second run: the first leaves its idle worker behind (sim.compute.shared_pool).
        _timed([stepbricks, "run", "--input", str(source), "--state-dir", str(work / "state-seed")], pool_env)
        for round_ in range(args.rounds):
            state = work / f"state-{round_}"
            legs["stepbricks run"].append(_timed([stepbricks, "run", "--input", str(source), "--state-dir", str(state)]))
            legs[warm].append(_timed([stepbricks, "run", "--input", str(source), "--state-dir",
                                      str(work / f"warm-{round_}")], pool_env))
            legs["bare compute (Spark's defaults)"].append(
                _timed([sys.executable, "-c", _BARE, str(source), str(work / f"bare-{round_}"), ""]))
            legs["bare compute (tuned JVM)"].append(
                _timed([sys.executable, "-c", _BARE, str(source), str(work / f"tuned-{round_}"), jvm.options()]))
        shared_pool.sweep(work / "pool")
    medians = {name: statistics.median(times) for name, times in legs.items()}
    for name, times in legs.items():
        print(f"{name:<36} median {medians[name]:6.2f} s   ({', '.join(f'{t:.2f}' for t in times)})")
    tuned = medians["stepbricks run"] / medians["bare compute (tuned JVM)"]
    print(f"like for like (bare leg on the simulator's JVM options): {tuned:.2f}x")
    report(f"stepbricks run, whole process, {args.rows:,} rows ÷ the bare compute by hand, same run",
           medians["stepbricks run"] / medians["bare compute (Spark's defaults)"], "x", TARGET_RATIO)
    report(f"the next stepbricks run ({shared_pool.POOL_DIR_ENV} set), {args.rows:,} rows ÷ the bare compute",
           medians[warm] / medians["bare compute (Spark's defaults)"], "x", TARGET_RATIO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
