"""Cost as work grows: the reference pipeline flown at growing sizes on the local and standalone backends.

For each backend one simulator is started (`--spark local`, or a standalone master + one worker started
here from pyspark's own `spark-class`, 1 core and 1 GB as on a laptop-sized node), the pipeline deployed
and its cluster brought to RUNNING first, then one small warm-up flight (the first flight of a cluster
also pays its first training and Parquet writes: fixed costs, printed apart); then one flight per size,
smallest first, each measured from the upload to SUCCEEDED. Per flight: wall time, rows/s, the peak
summed RSS of this process and every descendant (simulator, cluster worker, JVMs, standalone daemons and
executor) sampled every 0.5 s, and the marginal seconds per 100k rows against the previous size (growth
no worse than linear shows as a marginal cost that does not rise with size).

Usage: python bench/bench_scale.py [--sizes 5000,50000,500000,5000000] [--backends local,standalone]
Default sizes are the two small ones (`python -m bench` runs every bench); docs/scaling.md has the table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pipeline import PeakSampler
from bench.table import report

CLUSTER_START_TIMEOUT = 900


def _wait_running(env: dict[str, str], cluster_id: str) -> float:
    from harness.clients import workspace_client

    w = workspace_client(env)
    t0 = time.perf_counter()
    w.clusters.start(cluster_id)
    while (state := w.clusters.get(cluster_id)).state.value != "RUNNING":
        if time.perf_counter() - t0 > CLUSTER_START_TIMEOUT:
            raise SystemExit(f"cluster {cluster_id} not RUNNING after {CLUSTER_START_TIMEOUT} s: {state.state_message}")
        time.sleep(0.5)
    return time.perf_counter() - t0


def fly_sizes(backend: str, files: dict[int, Path], work: Path, warmup: Path | None,
              cluster_conf: dict[str, str]) -> list[dict]:
    from harness.deploy import DeployConfig, deploy
    from harness.engines import standalone_cluster
    from harness.runner import run_pipeline
    from sim.simulator import Simulator

    rows_out = []
    with ExitStack() as stack:
        t0 = time.perf_counter()
        spark = "local"
        if backend == "standalone":
            spark = stack.enter_context(standalone_cluster(work / "standalone", cores=1, memory="1g")).url
        t_engine = time.perf_counter() - t0
        sim = stack.enter_context(Simulator.start(state_dir=work / f"state-{backend}", spark=spark))
        env = {**os.environ, **sim.env}
        cluster_id = None
        if cluster_conf:  # a cluster of its own with this spark_conf, as a team would size one for big files
            from harness.clients import workspace_client

            created = workspace_client(env).api_client.do("POST", "/api/2.1/clusters/create", body={
                "cluster_name": "bench-scale", "spark_version": "15.4.x-scala2.12", "spark_conf": cluster_conf})
            cluster_id = created["cluster_id"]
        deployment = deploy(env, DeployConfig(poll_seconds=30, cluster_id=cluster_id))
        t_cluster = _wait_running(env, deployment.cluster_id)
        t_warm = 0.0
        if warmup is not None:
            t = time.perf_counter()
            if not run_pipeline(env, deployment, warmup, timeout=3600).succeeded:
                raise SystemExit(f"{backend}: the warm-up flight failed")
            t_warm = time.perf_counter() - t
        print(f"{backend}: engine up {t_engine:.1f} s, cluster RUNNING {t_cluster:.1f} s after deploy, warm-up "
              f"flight {t_warm:.1f} s (fixed costs, not in the rows below)", flush=True)
        for rows, path in sorted(files.items()):
            with PeakSampler() as memory:
                t = time.perf_counter()
                result = run_pipeline(env, deployment, path, timeout=7200)
                wall = time.perf_counter() - t
            if not result.succeeded:  # say which step and why, then go on with the next backend
                print(f"{backend} {rows:,} rows FAILED after {wall:.1f} s (peak {memory.peak:,.0f} MB): "
                      f"{_why(result)}", flush=True)
                break
            row = {"backend": backend, "rows": rows, "wall": wall, "rows_per_s": rows / wall, "peak_mb": memory.peak}
            rows_out.append(row)
            print(_line(row, rows_out[-2] if len(rows_out) > 1 else None), flush=True)
    return rows_out


def _why(result) -> str:
    """The failed states with their error and cause, and the Databricks tasks' own errors."""
    states = [f"{v.name}: {v.error} {str(v.cause)[:400]}" for v in result.trace.visits if v.error]
    tasks = [f"run {run_id}: {o.get('error')}" for run_id, o in result.run_outputs.items() if o.get("error")]
    return "; ".join(states + tasks) or f"{result.trace.error} {result.trace.cause}"


def _marginal(row: dict, previous: dict | None) -> str:
    if previous is None:
        return "-"
    return f"{(row['wall'] - previous['wall']) / (row['rows'] - previous['rows']) * 100_000:.2f}"


def _line(row: dict, previous: dict | None) -> str:
    return (f"| {row['backend']:<10} | {row['rows']:>9,} | {row['wall']:>8.1f} | {row['rows_per_s']:>9,.0f} | "
            f"{row['peak_mb']:>8,.0f} | {_marginal(row, previous):>13} |")


HEADER = ("| backend    |      rows |   wall s |    rows/s | peak MB | s per +100k rows |\n"
          "|------------|----------:|---------:|----------:|--------:|-----------------:|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="comma-separated row counts (e.g. 5000,50000,500000,5000000)")
    parser.add_argument("--backends", default="local,standalone", help="comma-separated: local, standalone")
    parser.add_argument("--cluster-conf", default="", help="spark_conf of the cluster the pipeline runs on, "
                        "k=v,k=v (e.g. spark.driver.memory=3g,spark.sql.shuffle.partitions=16); default: the "
                        "workspace's default cluster")
    parser.add_argument("--warmup-rows", type=int, default=1000, help="rows of the unmeasured first flight (0: none)")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    cluster_conf = dict(kv.split("=", 1) for kv in args.cluster_conf.split(",") if kv.strip())
    from sim.data.generator import generate

    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        files = {}
        for rows in sizes:
            path = work / f"customers-{rows}.csv"
            t = time.perf_counter()
            generate(path, rows=rows, seed=11, fmt="csv", dirty_share=0.01)
            print(f"generated {rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s",
                  flush=True)
            files[rows] = path
        warmup = None
        if args.warmup_rows:
            warmup = work / "warmup.csv"
            generate(warmup, rows=args.warmup_rows, seed=12, fmt="csv", dirty_share=0.01)
        for backend in backends:
            results.extend(fly_sizes(backend, files, work, warmup, cluster_conf))
    print(f"\n{os.cpu_count()} cores; sizes {', '.join(f'{s:,}' for s in sizes)}; one flight each, smallest first")
    print(HEADER)
    for i, row in enumerate(results):
        previous = results[i - 1] if i and results[i - 1]["backend"] == row["backend"] else None
        print(_line(row, previous))
    for backend in backends:
        mine = [r for r in results if r["backend"] == backend]
        if len(mine) >= 2:
            report(f"scale {backend}: peak RSS at {mine[-1]['rows']:,} rows ÷ at {mine[0]['rows']:,} rows",
                   mine[-1]["peak_mb"] / mine[0]["peak_mb"], "x", 2.0)


if __name__ == "__main__":
    main()
