"""`stepbricks experiment` at scale: N seeded fault plans flown against the shipped pipeline.

Prints the experiment's table (plans, faults applied by kind, violations by invariant, wall and virtual
time), seconds per plan, and the speed-up of K concurrent slots over one slot measured in the same run
(the first --baseline plans are flown on one slot too). Each slot flies on a simulator of its own, as
`stepbricks experiment` does (`--one-simulator`: every slot on one, in batches, as before). --repeat
flies the same seed again and checks the verdicts are identical (same seed ⇒ same plans ⇒ same verdicts).

Run: .venv/bin/python bench/bench_experiment.py [--plans 200] [--seed 7] [--concurrency 2] [--baseline 4]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console

from bench.table import report
from harness.experiment.cli_run import summary_table
from harness.experiment.experiment import run_experiment
from harness.experiment.runner import ExperimentConfig, Runner, prepare_slots, simulator_slots
from sim.compute import pool
from sim.simulator import Simulator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=4, help="plans also flown on one slot (0: skip)")
    parser.add_argument("--repeat", action="store_true", help="fly the seed twice and compare verdicts")
    parser.add_argument("--no-standby", action="store_true",
                        help="no standby worker (what `stepbricks experiment` did before it kept one)")
    parser.add_argument("--one-simulator", action="store_true",
                        help="every slot on one simulator, in batches (what `stepbricks experiment` did before "
                             "it gave each slot a simulator of its own)")
    parser.add_argument("--out", type=Path, default=Path(".stepbricks/bench-experiment"))
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    console = Console()
    with contextlib.ExitStack() as stack:
        if args.one_simulator:
            sim = stack.enter_context(Simulator.start(standby_worker=not args.no_standby))
            env = {**os.environ, **sim.env}
            slots = prepare_slots(env, args.concurrency)
        else:  # as `stepbricks experiment` flies them
            slots = simulator_slots(stack, args.concurrency, standby_worker=not args.no_standby)
            sim, env = slots[0].sim, slots[0].env or {}
        config = ExperimentConfig(rows=args.rows, concurrency=args.concurrency)
        runner = Runner(sim, env, slots, config, tag=f"b{args.seed}")
        serial = None
        if args.baseline:
            serial = run_experiment(Runner(sim, env, slots[:1], config, tag="serial"), plans=args.baseline,
                                    seed=args.seed, shrink_violations=False)
        result = run_experiment(runner, plans=args.plans, seed=args.seed, out=args.out,
                                on_verdict=lambda v: console.print(
                                    f"plan {v.plan.index:>4} {v.status:<10} {v.wall_seconds:6.1f} s "
                                    f"{len(v.plan.faults)} fault(s) {sorted(v.violations) or ''}", highlight=False))
        repeat = run_experiment(runner, plans=args.plans, seed=args.seed, shrink_violations=False) if args.repeat \
            else None
    console.print(summary_table(result))
    workers = pool.shared()
    console.print(f"worker restarts served by a warm worker: {workers.leased}; standbys started: "
                  f"{workers.standbys_started}")
    per_plan = result.wall_seconds / max(1, args.plans)
    console.print(f"seconds per plan ({args.concurrency} slots): {per_plan:,.1f}")
    report(f"stepbricks experiment, seconds per plan, concurrency {args.concurrency}", per_plan, "s", 3.0)
    if serial is not None:
        serial_per_plan = serial.wall_seconds / args.baseline
        console.print(f"seconds per plan (1 slot, first {args.baseline} plans): {serial_per_plan:,.1f}  "
                      f"→ speed-up {serial_per_plan / per_plan:,.2f}x")
    if repeat is not None:
        same = repeat.signatures() == result.signatures()
        console.print(f"same seed, same verdicts: {'yes' if same else 'NO'}")
        if not same:
            return 2
    return 0 if not result.violations else 1


if __name__ == "__main__":
    raise SystemExit(main())
