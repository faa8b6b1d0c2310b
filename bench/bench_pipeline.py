"""`stepbricks run` on N generated rows: simulator overhead vs the pipeline's own compute, peak memory.

Two legs in one run, so the ratio is measured on the same machine state:
- direct: the same ETL, training and evaluation functions called in this process on a warm local
  SparkSession, S3 on a bare moto server (the pipeline's own compute, plus S3 staging it needs anyway);
- simulated: the whole flight — S3 upload → trigger Lambda → Step Functions → start/poll Lambdas →
  fake workspace → notebooks on a cluster process → notifications.
Peak memory is the peak summed RSS of this process and every descendant (clusters, Lambda workers, JVMs).

Usage: python bench/bench_pipeline.py [--rows 1000000] [--poll-seconds 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import report
from harness.proctree import tree_memory_mb, tree_rss_mb


class PeakSampler:
    """The tree's peak RSS, and at that moment (RSS, PSS) by kind of process (`harness.proctree`)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.at_peak: dict[str, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            rss = tree_rss_mb(os.getpid())
            if rss > self.peak:
                self.peak, self.at_peak = rss, tree_memory_mb(os.getpid())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def direct_leg(path: Path, work: Path, jvm_options: str = "") -> dict[str, float]:
    """ETL + train + evaluate called directly: the pipeline's own compute (on the JVM's defaults, as a user
    writes it, unless given the simulator's tuning for a like-for-like overhead figure)."""
    from pyspark.sql import SparkSession

    from etl.pipeline import run_etl
    from etl.storage import Storage
    from ml.evaluate import run_evaluation
    from ml.train import run_training
    from sim.aws import AwsSimulator
    from sim.simulator import patched_environ

    with AwsSimulator.start(state_dir=work / "aws") as aws, patched_environ({
        **aws.env,
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "MLFLOW_S3_ENDPOINT_URL": aws.endpoint,
        "STEPBRICKS_STORAGE_MODE": "staged",
        "STEPBRICKS_MLFLOW_ARTIFACT_ROOT": "s3://bench-mlflow",
    }):
        s3 = aws.client("s3")
        for bucket in ("raw", "processed", "models", "results", "mlflow"):
            s3.create_bucket(Bucket=f"bench-{bucket}")
        s3.upload_file(str(path), "bench-raw", f"incoming/{path.name}")
        t0 = time.perf_counter()
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the scoring UDF's workers need scikit-learn
        spark = (SparkSession.builder.master("local[1]").appName("bench-direct")
                 .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                 .config("spark.driver.extraJavaOptions", jvm_options)
                 .config("spark.sql.session.timeZone", "UTC").getOrCreate())
        spark.range(1).count()
        t_spark = time.perf_counter() - t0
        t1 = time.perf_counter()
        with Storage.from_env(spark) as storage:
            summary = run_etl(spark, source_uri=f"s3://bench-raw/incoming/{path.name}",
                              processed_root="s3://bench-processed/processed",
                              quarantine_root="s3://bench-processed/quarantine", storage=storage)
        t_etl = time.perf_counter() - t1
        t2 = time.perf_counter()
        # With `spark`, as the notebooks call them: Spark reads and samples, scoring runs in Arrow batches.
        trained = run_training(processed_uri=summary["output_uri"], model_name="bench-churn",
                               models_root="s3://bench-models/models", spark=spark)
        run_evaluation(processed_uri=summary["output_uri"], model_name="bench-churn",
                       model_version=trained["model_version"], results_root="s3://bench-results/evaluation",
                       spark=spark)
        t_ml = time.perf_counter() - t2
        _stop_jvm(spark)
    return {"spark_start": t_spark, "etl": t_etl, "ml": t_ml, "compute": t_etl + t_ml}


def _stop_jvm(spark: Any) -> None:
    """Stop the session and its JVM: `spark.stop()` alone leaves pyspark's gateway JVM running, and the
    simulated leg's peak then counted the direct leg's JVM (about 0.85 GB) as its own."""
    from pyspark import SparkContext

    spark.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None:
        process.stdin.close()  # the gateway JVM exits when its parent's pipe closes
        process.wait(timeout=60)
    SparkContext._gateway = SparkContext._jvm = None


def simulated_leg(path: Path, poll_seconds: int) -> dict[str, float]:
    from harness.deploy import DeployConfig, deploy
    from harness.runner import run_pipeline
    from sim.simulator import Simulator

    t0 = time.perf_counter()
    with Simulator.start() as sim:
        t_up = time.perf_counter() - t0
        env = {**os.environ, **sim.env}
        t1 = time.perf_counter()
        deployment = deploy(env, DeployConfig(poll_seconds=poll_seconds))
        t_deploy = time.perf_counter() - t1
        result = run_pipeline(env, deployment, path, timeout=7200)
        if not result.succeeded:
            failed = [(v.name, v.error, v.output) for v in result.trace.visits if v.error or v.name.startswith("Notify")]
            errors = {run_id: (o.get("error"), (o.get("error_trace") or "")[-1500:])
                      for run_id, o in result.run_outputs.items() if o.get("error")}
            raise SystemExit(f"the simulated pipeline failed: {failed}\nDatabricks task errors: {errors}")
        job_seconds = sum((r["end_time"] - r["start_time"]) / 1000 for r in result.databricks_runs)
    return {"up": t_up, "deploy": t_deploy, "flight": result.wall_seconds or 0.0, "jobs": job_seconds,
            "total": time.perf_counter() - t0}


@dataclass
class Peak:
    """A leg's peak RSS and, at that moment, (RSS, PSS) by kind of process (what `PeakSampler` saw)."""

    peak: float
    at_peak: dict[str, tuple[float, float]]


def in_fresh_process(leg: Callable[..., dict[str, float]], *args: Any) -> tuple[dict[str, float], Peak]:
    """Run a leg in a new interpreter and measure that process's tree only. In one process the simulated
    leg's peak counted what the direct leg left behind: pyspark, pandas, scikit-learn and MLflow imported
    (a simulator process starts at ~100 MB, ~335 MB with those imported) and the direct leg's freed memory
    the allocator kept; a user's `stepbricks run` has neither."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_measured, args=(results, leg, *args))
    process.start()
    while True:  # a leg that dies without a word (killed, a crash in C) must not hang the bench
        try:
            outcome = results.get(timeout=5)
            break
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"{leg.__name__} died with exit code {process.exitcode}") from None
    process.join()
    if isinstance(outcome, BaseException):
        raise outcome
    figures, peak, at_peak = outcome
    return figures, Peak(peak, at_peak)


def _measured(results: Any, leg: Callable[..., dict[str, float]], *args: Any) -> None:
    try:
        with PeakSampler() as memory:
            figures = leg(*args)
        results.put((figures, memory.peak, memory.at_peak))
    except BaseException as error:  # handed to the parent, which raises it
        results.put(RuntimeError(f"{leg.__name__} failed: {error!r}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--poll-seconds", type=int, default=2)
    parser.add_argument("--direct-jvm", choices=("defaults", "tuned"), default="defaults",
                        help="the direct leg's JVM: its defaults (what a user writes) or sim.compute.jvm's tuning")
    args = parser.parse_args()
    from sim.data.generator import generate

    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        work = Path(tmp)
        path = work / f"customers-{args.rows}.csv"
        t = time.perf_counter()
        generate(path, rows=args.rows, seed=11, fmt="csv", dirty_share=0.01)
        t_gen = time.perf_counter() - t
        size_mb = path.stat().st_size / 1e6
        from sim.compute import jvm

        direct, direct_mem = in_fresh_process(direct_leg, path, work,
                                              jvm.options() if args.direct_jvm == "tuned" else "")
        simulated, sim_mem = in_fresh_process(simulated_leg, path, args.poll_seconds)
    overhead = simulated["flight"] - direct["compute"]
    print(f"rows {args.rows:,} (generated in {t_gen:.1f} s, {size_mb:.0f} MB) — same run, both legs")
    print(f"{'leg':<34}{'seconds':>10}")
    for name, value in (
        ("direct: Spark start (warm after)", direct["spark_start"]),
        ("direct: ETL", direct["etl"]),
        ("direct: train + evaluate", direct["ml"]),
        ("direct: compute total", direct["compute"]),
        ("simulated: simulator up", simulated["up"]),
        ("simulated: deploy", simulated["deploy"]),
        ("simulated: upload → SUCCEEDED", simulated["flight"]),
        ("simulated: Databricks job runs", simulated["jobs"]),
        ("simulated overhead (flight - compute)", overhead),
    ):
        print(f"{name:<34}{value:>10.1f}")
    print(f"ratio flight / direct compute: {simulated['flight'] / direct['compute']:.2f}x "
          "(the flight includes the cluster's cold start and polling waits)")
    print(f"peak RSS (process tree): direct {direct_mem.peak:.0f} MB, simulated {sim_mem.peak:.0f} MB")
    for leg, mem in (("direct", direct_mem), ("simulated", sim_mem)):
        for kind, (rss, pss) in sorted(mem.at_peak.items(), key=lambda kv: -kv[1][0]):
            print(f"  at the {leg} peak: {kind:<24} RSS {rss:7.0f} MB   PSS {pss:7.0f} MB")
    report(f"flight of {args.rows:,} rows (upload → SUCCEEDED) ÷ the same compute called directly",
           simulated["flight"] / direct["compute"], "x", 1.15)
    report(f"peak RSS of that flight's process tree (direct: {direct_mem.peak:,.0f} MB)", sim_mem.peak, "MB", 1800)


if __name__ == "__main__":
    main()
