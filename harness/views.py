"""Rich renderings shared by the CLI: endpoint tables, the live execution view, the run summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from harness.follow import ExecutionTrace

SECRET_VARS = ("TOKEN", "SECRET", "PASSWORD")


def mask(name: str, value: str) -> str:
    """Tables never show a secret; `stepbricks env` (an explicit request) prints it for export."""
    if any(word in name for word in SECRET_VARS):
        return value[:4] + "…" if value and name != "AWS_SECRET_ACCESS_KEY" else "…"
    return value


def endpoints_table(env: Mapping[str, str]) -> Table:
    table = Table(title="stepbricks simulator", show_lines=False)
    table.add_column("variable")
    table.add_column("value")
    for key in sorted(env):
        table.add_row(key, mask(key, env[key]))
    return table


def export_lines(env: Mapping[str, str]) -> str:
    import shlex

    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items()))


def trace_table(trace: ExecutionTrace) -> Table:
    """One row per state in order of first entry; polling loops fold into a visit count."""
    table = Table(title=f"execution {trace.execution_arn.rsplit(':', 1)[-1]} — {trace.status}")
    for col in ("state", "type", "visits", "attempts", "seconds", "last result"):
        table.add_column(col)
    rows: dict[str, dict] = {}
    for visit in trace.visits:
        row = rows.setdefault(visit.name, {"type": visit.type, "visits": 0, "attempts": 0, "seconds": 0.0,
                                           "open": False, "result": ""})
        row["visits"] += 1
        row["attempts"] += visit.attempts
        row["seconds"] += visit.seconds or 0.0
        row["open"] = visit.seconds is None
        row["result"] = _short_result(visit.error, visit.output)
    for name, row in rows.items():
        retries = row["attempts"] - row["visits"] if row["attempts"] > row["visits"] else 0
        table.add_row(
            name,
            row["type"],
            str(row["visits"]),
            (f"{row['attempts']}" + (f" ({retries} retries)" if retries else "")) if row["attempts"] else "",
            f"{row['seconds']:.2f}" + (" …" if row["open"] else ""),
            row["result"],
        )
    return table


def _short_result(error: str | None, output: Any) -> str:
    if error:
        return f"[red]{error}[/red]"
    if isinstance(output, dict):
        for key in ("life_cycle_state", "isValid", "run_id", "status"):
            if key in output:
                extra = output.get("result_state") or ""
                return f"{key}={output[key]} {extra}".strip()
    return ""


def summary_panel(result: Any) -> Group:
    """The end-of-run summary: outcome, Databricks runs, rows, model metrics, notifications."""
    trace = result.trace
    colour = "green" if result.succeeded else "red"
    head = Panel(
        f"[{colour}]{trace.status}[/{colour}]  input {result.input_uri}\n"
        f"variant {result.variant}, {len(trace.visits)} states, {trace.retries} retries"
        + (f", {result.wall_seconds:.1f} s wall" if result.wall_seconds is not None else "")
        + (f"\nerror {trace.error}: {trace.cause}" if trace.error else ""),
        title="pipeline",
    )
    parts: list[Any] = [head, trace_table(trace)]
    if result.databricks_runs:
        runs = Table(title="Databricks runs")
        for col in ("run_id", "job_id", "run_name", "state", "duration s"):
            runs.add_column(col)
        for run in result.databricks_runs:
            state = run.get("state", {})
            dur = (run.get("end_time", 0) - run.get("start_time", 0)) / 1000 if run.get("end_time") else 0
            runs.add_row(
                str(run.get("run_id")),
                str(run.get("job_id", "")),
                run.get("run_name", ""),
                f"{state.get('life_cycle_state')} {state.get('result_state', '')}",
                f"{dur:.1f}",
            )
        parts.append(runs)
        for run_id, output in result.run_outputs.items():
            if output.get("error"):
                parts.append(Panel(f"[red]{output['error']}[/red]\n{output.get('error_trace') or ''}",
                                   title=f"task run {run_id} (an attempt) failed"))
    etl = result.step_output("etl")
    if isinstance(etl, dict) and "rows_in" in etl:
        rows = Table(title="data")
        for col in ("rows in", "written", "quarantined", "output"):
            rows.add_column(col)
        rows.add_row(str(etl["rows_in"]), str(etl["rows_written"]), str(etl["rows_quarantined"]), str(etl.get("output_uri")))
        parts.append(rows)
    evaluation = result.step_output("evaluate")
    if isinstance(evaluation, dict) and "metrics" in evaluation:
        metrics = Table(title="model")
        metrics.add_column("metric")
        metrics.add_column("value")
        for name, value in evaluation["metrics"].items():
            if isinstance(value, int | float):
                metrics.add_row(name, f"{value:.4f}")
        gate = evaluation.get("gate") or {}
        metrics.add_row("quality gate", f"{gate.get('metric')} ≥ {gate.get('threshold')}: {gate.get('passed')}")
        parts.append(metrics)
    if result.notifications:
        notes = Table(title="notifications (SNS)")
        notes.add_column("subject")
        notes.add_column("topic")
        for note in result.notifications:
            notes.add_row(str(note.get("subject")), str(note.get("topic_arn", "")).rsplit(":", 1)[-1])
        parts.append(notes)
    return Group(*parts)
