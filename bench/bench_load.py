"""Load: N files uploaded at once → N executions of the reference pipeline; all must succeed with complete
outputs. Prints executions per minute, peak RSS of the whole process tree (clusters, Lambda workers,
JVMs), and the speed-up over flying the same files one at a time (a single flight measured in this run).

Run: .venv/bin/python bench/bench_load.py [--files 100] [--rows 1000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pipeline import PeakSampler
from bench.table import report
from harness.experiment.load import fly_many
from harness.experiment.runner import ExperimentConfig, Runner, prepare_slots
from harness.proctree import tree_cpu_seconds
from harness.runner import databricks_runs_of, task_outputs
from harness.views import failure_reason
from sim.simulator import Simulator


def failed_tasks(env: dict[str, str], trace: Any) -> list[str]:
    """The error and the end of the trace of each failed task of the flight's Databricks runs (runs/get-output),
    so a broken flight says what raised, not only which step."""
    runs = databricks_runs_of(env, None, trace)
    lines: list[str] = []
    for run_id, output in task_outputs(env, runs).items():
        if output.get("error"):
            task = output.get("metadata", {}).get("task_key", "?")
            tail = (output.get("error_trace") or "").strip().splitlines()[-6:]
            lines += [f"task {task} (run {run_id}): {output['error']}", *(f"  | {t}" for t in tail)]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with Simulator.start() as sim:
        env = {**os.environ, **sim.env}
        (slot,) = prepare_slots(env, 1)
        runner = Runner(sim, env, [slot], ExperimentConfig(rows=args.rows))
        fly_many(runner, slot, 1, rows=args.rows, tag="warm")  # clusters, MLflow store, Lambda workers warm
        before = tree_cpu_seconds(os.getpid())
        single = fly_many(runner, slot, 1, rows=args.rows, tag="single")
        single_cpu = tree_cpu_seconds(os.getpid()) - before
        with PeakSampler() as peak:
            before = tree_cpu_seconds(os.getpid())
            load = fly_many(runner, slot, args.files, rows=args.rows, tag="load")
            load_cpu = (tree_cpu_seconds(os.getpid()) - before) / args.files
        broken = [v for v in load.verdicts if not v.ok]
        task_errors = {v.key: failed_tasks(env, v.observation.trace) for v in broken[:5]
                       if v.observation and v.observation.trace}
    sequential = single.wall_seconds * args.files
    cores = os.cpu_count() or 1
    # With every core busy and nothing else in the way, N flights of `load_cpu` CPU s each take
    # N * load_cpu / cores of wall: the speed-up over one at a time cannot pass cores * alone / load_cpu.
    ceiling = cores * single.wall_seconds / load_cpu
    rows = [
        ("files uploaded at once", f"{args.files}"),
        ("executions SUCCEEDED", f"{load.succeeded}/{len(load.verdicts)}"),
        ("executions with a violated invariant", f"{len(broken)}"),
        ("wall time, all files", f"{load.wall_seconds:,.1f} s"),
        ("  of which judging, after all ended", f"{load.wall_seconds - load.settled_seconds:,.1f} s"),
        ("virtual time, all files", f"{load.virtual_seconds:,.1f} s"),
        ("executions per minute", f"{load.executions_per_minute:,.2f}"),
        ("one file alone (wall)", f"{single.wall_seconds:,.1f} s"),
        ("speed-up vs one at a time", f"{sequential / load.wall_seconds:,.2f}x"),
        ("CPU of the tree, one file alone", f"{single_cpu:,.1f} s"),
        ("CPU of the tree per file, in the load", f"{load_cpu:,.1f} s"),
        (f"speed-up ceiling on {cores} cores (CPU-bound)", f"{ceiling:,.2f}x"),
        ("CPU busy during the load", f"{load_cpu * args.files / (cores * load.wall_seconds):.0%}"),
        ("peak RSS, process tree", f"{peak.peak:,.0f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\nbench_load ({args.rows} rows a file)")
    for key, value in rows:
        print(f"  {key:<{width}}  {value:>14}")
    report(f"{args.files} files uploaded at once ÷ one at a time (throughput)", sequential / load.wall_seconds, "x",
           2.0, at_most=False)
    report(f"peak RSS of the {args.files}-file load (process tree)", peak.peak, "MB", 2500)
    print("  at the peak, by kind of process (RSS counts a page shared by forked processes in each; PSS once):")
    for kind, (rss, pss) in sorted(peak.at_peak.items(), key=lambda item: -item[1][0]):
        print(f"    {kind:<48} RSS {rss:>8,.0f} MB   PSS {pss:>8,.0f} MB")
    for verdict in broken[:5]:
        trace = verdict.observation.trace if verdict.observation else None
        why = (failure_reason(trace) if trace else None) or "no trace"
        print(f"  ! {verdict.key}: {verdict.status} {verdict.violations}\n    why: {why}")
        for line in task_errors.get(verdict.key, []):
            print(f"    {line}")
    return 0 if not broken and load.succeeded == args.files else 1


if __name__ == "__main__":
    raise SystemExit(main())
