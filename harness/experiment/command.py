"""`stepbricks experiment`: the command-line face of the experiment runner (options only; work is lazy)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def experiment(
    plans: Annotated[int, typer.Option(help="How many random fault plans to run the pipeline under.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the plans (same seed: same plans, same verdicts).")] = 0,
    concurrency: Annotated[int, typer.Option(help="Executions in flight at once (one deployment each).")] = 2,
    rows: Annotated[int, typer.Option(help="Raw rows in each execution's input file.")] = 1000,
    shrink: Annotated[bool, typer.Option(help="Shrink each violation to a minimal plan and save it.")] = True,
    poll_seconds: Annotated[int, typer.Option(help="The pipeline's Wait between Databricks polls (as deployed: 30). "
                                              "Concurrent flights wait it in real time while another computes.")] = 30,
    out: Annotated[Path, typer.Option(help="Where plans, verdicts and reports are written.")] = Path(
        ".stepbricks/experiments"
    ),
) -> None:
    """Fly the pipeline under N seeded random fault plans and check its invariants after each run.

    Faults: Lambda errors, timeouts and throttles, S3 5xx, Databricks task failures, INTERNAL_ERROR,
    slow clusters, a worker killed mid-task, 429s from the workspace, duplicate S3 event deliveries.
    A violation is shrunk to a minimal plan saved under --out, with an HTML report of its execution.
    Exit code 0 only when no invariant was violated."""
    from harness.experiment.cli_run import run_command
    from sim import collector

    collector.freeze_at_exit()  # the interpreter's last collection would walk every flight's leftovers
    raise typer.Exit(run_command(plans=plans, seed=seed, concurrency=concurrency, rows=rows, shrink=shrink, out=out,
                                 poll_seconds=poll_seconds))
