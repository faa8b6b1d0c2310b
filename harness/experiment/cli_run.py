"""`stepbricks experiment`: bring the simulator up, deploy one pipeline per slot, run, shrink, tabulate."""

from __future__ import annotations

import contextlib
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.experiment.experiment import ExperimentResult, run_experiment


def summary_table(result: ExperimentResult) -> Table:
    """Plans run, faults applied by kind, violations by invariant, wall and virtual time."""
    from harness.experiment import invariants

    table = Table(title=f"stepbricks experiment (seed {result.seed})", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("plans run", str(len(result.verdicts)))
    statuses: dict[str, int] = {}
    for verdict in result.verdicts:
        statuses[verdict.status] = statuses.get(verdict.status, 0) + 1
    for status, count in sorted(statuses.items()):
        table.add_row(f"  executions {status}", str(count))
    table.add_section()
    for kind, count in sorted(result.faults_by_kind.items()):
        table.add_row(f"faults applied: {kind}", str(count))
    table.add_section()
    for name in invariants.registered():
        count = result.violations.get(name, 0)
        table.add_row(f"violations: {name}", f"[red]{count}[/red]" if count else "0")
    table.add_section()
    table.add_row("wall time", f"{result.wall_seconds:,.1f} s")
    table.add_row("virtual time", f"{result.virtual_seconds:,.1f} s")
    if result.wall_seconds:
        table.add_row("virtual / wall", f"{result.virtual_seconds / result.wall_seconds:,.1f}x")
    return table


def run_command(*, plans: int, seed: int, concurrency: int, rows: int, shrink: bool, out: Path,
                poll_seconds: int = 30) -> int:
    from harness.experiment import invariants
    from harness.experiment.runner import ExperimentConfig, Runner, simulator_slots

    console = Console()
    loaded = invariants.load_entry_points()
    if loaded:
        console.print(f"invariants from entry points: {', '.join(loaded)}")
    stack = contextlib.ExitStack()
    try:
        with console.status(f"starting {max(1, concurrency)} simulator(s), one pipeline each…"):
            # One simulator per slot: own clock, so one slot's waits skip while the other computes.
            # Plans kill workers: restarts lease a warm standby.
            slots = simulator_slots(stack, max(1, concurrency), poll_seconds=poll_seconds, standby_worker=True)
        runner = Runner(slots[0].sim, slots[0].env or {}, slots,
                        ExperimentConfig(rows=rows, concurrency=concurrency, poll_seconds=poll_seconds), tag=f"s{seed}")
        columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("{task.fields[violations]} violation(s)"))
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("flying plans", total=plans, violations=0)
            found = [0]

            def advance(verdict: object) -> None:
                found[0] += 0 if verdict.ok else 1  # type: ignore[attr-defined]
                progress.update(task, advance=1, violations=found[0])

            result = run_experiment(runner, plans=plans, seed=seed, shrink_violations=shrink, out=out,
                                    on_verdict=advance)
        console.print(summary_table(result))
        for finding in result.findings:
            console.print(f"[red]plan {finding.verdict.plan.index}[/red] broke {sorted(finding.verdict.violations)}; "
                          f"shrunk in {finding.shrunk.tried} flights to {len(finding.shrunk.minimal.faults)} fault(s):")
            for fault in finding.shrunk.minimal.faults:
                console.print(f"    {fault.describe()}", highlight=False)
            console.print(f"    plan: {finding.plan_file}\n    report: {finding.report_file}", highlight=False)
        console.print(f"verdicts: {out / f'experiment-seed{seed}.json'}", highlight=False)
        return 0 if not result.violations else 1
    finally:
        with console.status("stopping the simulators…"):
            stack.close()
