"""Builds the run report's HTML from what a run left behind: history, runs, faults, outputs.

Secrets never appear: every known secret value is replaced before anything is written, whatever field
it hides in (a token echoed into a log, an exception message, a job parameter).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from asl.graph import Graph
from harness.coverage import MachineCoverage, coverage_for
from harness.follow import ExecutionTrace
from harness.report.graph_svg import render_svg

REDACTED = "[REDACTED]"


@dataclass
class ReportData:
    title: str
    definition: Mapping[str, Any]
    trace: ExecutionTrace
    wall_seconds: float | None = None
    input_uri: str | None = None
    databricks_runs: list[dict] = field(default_factory=list)
    run_outputs: dict[int, dict] = field(default_factory=dict)  # task run id -> runs/get-output
    faults: list[Mapping[str, Any]] = field(default_factory=list)
    notifications: list[Mapping[str, Any]] = field(default_factory=list)
    map_results: list[Mapping[str, Any]] = field(default_factory=list)  # a Distributed Map's ResultWriter records
    etl: Mapping[str, Any] | None = None
    evaluation: Mapping[str, Any] | None = None
    training: Mapping[str, Any] | None = None
    metrics: list[Mapping[str, Any]] = field(default_factory=list)  # CloudWatch datapoints, if any
    session_coverage: MachineCoverage | None = None
    secrets: Iterable[str] = ()


def render_report(data: ReportData) -> str:
    graph = Graph.from_definition(data.definition)
    this_run = coverage_for(data.title, data.definition, [data.trace.events])
    failed = {v.name for v in data.trace.visits if v.error}
    if data.trace.status != "SUCCEEDED" and data.trace.visits:
        failed.add(data.trace.visits[-1].name)
    svg = render_svg(
        graph,
        visits=dict(this_run.states),
        taken=dict(this_run.edges),
        failed=failed,
        coverage=dict(data.session_coverage.states) if data.session_coverage else None,
    )
    start = data.trace.visits[0].entered if data.trace.visits else None
    timeline = [
        {
            "name": v.name,
            "type": v.type,
            "offset": (v.entered - start).total_seconds() if start else 0.0,
            "seconds": v.seconds,
            "attempts": v.attempts,
            "error": v.error,
            "entered": _iso(v.entered),
        }
        for v in data.trace.visits
    ]
    total_virtual = timeline[-1]["offset"] + (timeline[-1]["seconds"] or 0) if timeline else 0.0
    env = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=select_autoescape(["html"]))
    html = env.get_template("report.html").render(
        data=data,
        svg=svg,
        timeline=timeline,
        total_virtual=total_virtual,
        coverage=this_run,
        session=data.session_coverage,
        pretty=lambda v: json.dumps(v, indent=2, sort_keys=True, default=str),
        run_outputs=data.run_outputs,
    )
    return redact(html, data.secrets)


def write_report(data: ReportData, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data), encoding="utf-8")
    return path


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
