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
        row["result"] = result_summary(visit.error, visit.result)
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


def result_summary(error: str | None, result: Any) -> str:
    """One line of a Task's result: what validation found, which run and its state, rows, what was sent."""
    if error:
        return f"[red]{error}[/red]"
    if not isinstance(result, dict):
        return ""
    if "isValid" in result:
        if result["isValid"]:
            return f"valid {result.get('fileType')}, {result.get('rowCount')} rows"
        return f"[red]invalid[/red]: {_clip(str(result.get('error', '')))}"
    if "run_id" in result:
        state = " ".join(str(result[k]) for k in ("life_cycle_state", "result_state") if result.get(k))
        text = f"run {result['run_id']}" + (f" {state}" if state else "")
        output = result.get("output")
        if isinstance(output, dict) and "rows_in" in output:
            text += f", rows {output['rows_in']} → {output['rows_written']} + {output['rows_quarantined']} quarantined"
        return text
    if "messageId" in result:
        return f"notified ({result['status']})" if result.get("status") else "notified"
    return ""


def failure_reason(trace: ExecutionTrace) -> str | None:
    """Which step went wrong and how, read from the states' own results: the summary says it, not only SNS."""
    for visit in trace.visits:
        result = visit.result if isinstance(visit.result, dict) else {}
        if result.get("isValid") is False:
            return f"{visit.name} refused the file: {result.get('error')}"
        if result.get("is_complete") and not result.get("is_successful"):
            state = " ".join(str(result[k]) for k in ("life_cycle_state", "result_state") if result.get(k))
            return f"{visit.name}: Databricks run {result.get('run_id')} ended {state}: {result.get('state_message')}"
    failed = [v for v in trace.visits if v.error]
    if failed:
        last = failed[-1]
        return f"{last.name} failed with {last.error}" + (f": {_clip(last.cause or '', 300)}" if last.cause else "")
    return None


def _clip(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_panel(result: Any) -> Group:
    """The end-of-run summary: outcome, Databricks runs, rows, model metrics, notifications."""
    trace = result.trace
    colour = "green" if result.succeeded else "red"
    head = Panel(
        f"[{colour}]{trace.status}[/{colour}]  input {result.input_uri}\n"
        f"variant {result.variant}, {len(trace.visits)} states, {trace.retries} retries"
        + (f", {result.wall_seconds:.1f} s wall" if result.wall_seconds is not None else "")
        + (f"\nerror {trace.error}: {trace.cause}" if trace.error else "")
        + (f"\n[bold]why[/bold]: {reason}" if not result.succeeded and (reason := failure_reason(trace)) else ""),
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
