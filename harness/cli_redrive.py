"""`stepbricks redrive EXECUTION`: after fixing what made an execution fail, resume it where it stopped.

RedriveExecution (Standard executions that failed, timed out or were aborted) continues the same
execution from the state that did not complete, with the input it had; the states that succeeded are
not rerun. The command redrives, follows the execution to its end, prints its states and rebuilds its
report (the history now holds both attempts, the `ExecutionRedriven` event between them).
Exit code 0 only when the redriven execution succeeds; 2 when Step Functions refuses the redrive.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live

console = Console()


def redrive(
    execution: Annotated[str, typer.Argument(help="Execution ARN (of a running `stepbricks up`, or of AWS).")],
    out: Annotated[Path | None, typer.Option(help="Where to write the HTML report.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to follow the redriven execution.")] = 1800.0,
) -> None:
    """Redrive a failed, timed-out or aborted execution from the state it stopped in and follow it."""
    from botocore.exceptions import ClientError

    from harness.cli import STATE_HOME, _target_env
    from harness.clients import aws_client
    from harness.follow import follow
    from harness.reporting import report_for_execution
    from harness.views import trace_table

    env = _target_env()
    sfn = aws_client("stepfunctions", env)
    try:
        redriven = sfn.redrive_execution(executionArn=execution)
    except ClientError as exc:
        error = exc.response["Error"]
        console.print(f"[red]{error.get('Code')}: {error.get('Message')}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    count = sfn.describe_execution(executionArn=execution).get("redriveCount")
    console.print(f"redriven at {redriven['redriveDate']:%Y-%m-%d %H:%M:%S} (redrive {count})")
    with Live(console=console, refresh_per_second=4, transient=True) as live:
        trace = follow(sfn, execution, sleep=time.sleep, on_update=lambda t: live.update(trace_table(t)),
                       timeout=timeout)  # fmt: skip
    console.print(trace_table(trace))
    if trace.error:
        console.print(f"[red]{trace.error}[/red]: {trace.cause}", highlight=False)
    path = out or STATE_HOME / "reports" / f"{execution.rsplit(':', 1)[-1]}.html"
    console.print(f"report: {report_for_execution(env, execution, path)}")
    raise typer.Exit(0 if trace.status == "SUCCEEDED" else 1)
