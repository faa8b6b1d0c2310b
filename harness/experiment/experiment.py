"""One experiment end to end: draw plans, fly them, shrink each violation, save minimal plans and reports."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.experiment.model import ExperimentPlan, FaultModel
from harness.experiment.runner import Runner, Verdict
from harness.experiment.shrink import ShrinkResult, shrink


@dataclass
class Finding:
    """A violation, the plan shrunk to its minimum, and where its plan file and report were written."""

    verdict: Verdict
    shrunk: ShrinkResult
    minimal_verdict: Verdict
    plan_file: Path | None = None
    report_file: Path | None = None


@dataclass
class ExperimentResult:
    seed: int
    verdicts: list[Verdict]
    findings: list[Finding] = field(default_factory=list)
    wall_seconds: float = 0.0
    virtual_seconds: float = 0.0

    @property
    def violations(self) -> Counter[str]:
        return Counter(name for v in self.verdicts for name in v.violations)

    @property
    def faults_by_kind(self) -> Counter[str]:
        """Faults applied, by kind (planned faults that never fired are not counted)."""
        counts: Counter[str] = Counter()
        for verdict in self.verdicts:
            for applied in verdict.applied:
                target = applied["target"]
                counts["duplicate_delivery" if target == "s3-event" else target.split(":", 1)[0]] += 1
        return counts

    def signatures(self) -> list[tuple[str, ...]]:
        return [v.signature() for v in self.verdicts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "plans": len(self.verdicts),
            "violations": dict(self.violations),
            "faults_applied": dict(self.faults_by_kind),
            "wall_seconds": round(self.wall_seconds, 1),
            "virtual_seconds": round(self.virtual_seconds, 1),
            "verdicts": [v.to_dict() for v in self.verdicts],
            "findings": [
                {"plan_index": f.verdict.plan.index, "invariants": sorted(f.verdict.violations),
                 "minimal": f.shrunk.minimal.to_dict(), "flights": f.shrunk.tried, "steps": f.shrunk.steps,
                 "plan_file": str(f.plan_file or ""), "report": str(f.report_file or "")}
                for f in self.findings
            ],
        }


def run_experiment(
    runner: Runner,
    *,
    plans: int,
    seed: int,
    model: FaultModel | None = None,
    shrink_violations: bool = True,
    shrink_budget: int = 16,
    out: Path | None = None,
    on_verdict: Callable[[Verdict], None] = lambda _v: None,
) -> ExperimentResult:
    drawn = (model or FaultModel()).draw_many(seed, plans)
    # Virtual time flown: summed over the slots' simulators when each has its own clock.
    started, virtual_start = time.monotonic(), [sim.clock.now() for sim in runner.simulators()]
    verdicts = runner.run(drawn, on_verdict=on_verdict)
    result = ExperimentResult(seed=seed, verdicts=verdicts)
    if shrink_violations:
        for verdict in [v for v in verdicts if not v.ok]:
            result.findings.append(minimize(runner, verdict, budget=shrink_budget, out=out, seed=seed))
    result.wall_seconds = time.monotonic() - started
    result.virtual_seconds = sum(sim.clock.now() - t for sim, t in zip(runner.simulators(), virtual_start,
                                                                         strict=True))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"experiment-seed{seed}.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
    return result


def minimize(runner: Runner, verdict: Verdict, *, budget: int = 16, out: Path | None = None,
             seed: int = 0) -> Finding:
    """Shrink `verdict`'s plan to the smallest one that still breaks one of the same invariants."""
    broken = set(verdict.violations)
    last: dict[str, Verdict] = {}

    def reproduces(candidate: ExperimentPlan) -> bool:
        again = runner.run_one(candidate)
        if broken & set(again.violations):
            last["verdict"] = again
            return True
        return False

    shrunk = shrink(verdict.plan, reproduces, budget=budget)
    finding = Finding(verdict=verdict, shrunk=shrunk, minimal_verdict=last.get("verdict", verdict))
    if out is not None:
        name = f"seed{seed}-plan{verdict.plan.index}-{'-'.join(sorted(broken))}"
        finding.plan_file = shrunk.minimal.save(
            out / "plans" / f"{name}.json",
            invariants=sorted(broken),
            violations=finding.minimal_verdict.violations,
        )
        finding.report_file = write_finding_report(runner, finding, out / "reports" / f"{name}.html")
    return finding


def write_finding_report(runner: Runner, finding: Finding, path: Path) -> Path | None:
    """The run report (harness/report) of the minimal plan's execution: its history, runs, the faults
    applied and, with each, the invariants that broke."""
    from harness.reporting import report_for_result
    from harness.runner import RunResult, databricks_runs_of, task_outputs

    verdict = finding.minimal_verdict
    obs = verdict.observation
    if obs is None or obs.trace is None:
        return None
    result = RunResult(variant="polling", input_uri=obs.input_uri, execution_arn=obs.trace.execution_arn,
                       trace=obs.trace, notifications=obs.notifications, wall_seconds=verdict.wall_seconds)
    result.databricks_runs = databricks_runs_of(runner.env, None, obs.trace)
    result.run_outputs = task_outputs(runner.env, result.databricks_runs)
    violations = [f"{name}: {message}" for name, messages in verdict.violations.items() for message in messages]
    faults = [{**applied, "label": "; ".join(violations)} for applied in verdict.applied] or [
        {"target": "(no fault applied)", "label": "; ".join(violations)}]
    return report_for_result(runner.env, result, path, faults=faults)
