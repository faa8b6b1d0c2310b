"""The table an experiment ends with: plans, faults applied by kind, violations by invariant, times."""

from __future__ import annotations

from rich.console import Console

from harness.experiment.cli_run import summary_table
from harness.experiment.experiment import ExperimentResult
from harness.experiment.model import ExperimentPlan
from harness.experiment.runner import Verdict


def test_the_table_counts_faults_by_kind_and_violations_by_invariant():
    verdicts = [
        Verdict(plan=ExperimentPlan(0), status="SUCCEEDED",
                applied=[{"target": "lambda:stepbricks-validate-file", "occurrence": 1, "effect": {}},
                         {"target": "s3-event", "occurrence": 2, "effect": {}}]),
        Verdict(plan=ExperimentPlan(1), status="FAILED",
                applied=[{"target": "workspace:POST /api/2.*/jobs/run-now", "occurrence": 1, "effect": {}}],
                violations={"one_run_per_job": ["2 runs"]}),
    ]
    result = ExperimentResult(seed=7, verdicts=verdicts, wall_seconds=20.0, virtual_seconds=400.0)
    console = Console(record=True, width=120)

    console.print(summary_table(result))

    text = console.export_text()
    assert "plans run" in text and " 2" in text
    assert "faults applied: lambda" in text and "faults applied: duplicate_delivery" in text
    assert "faults applied: workspace" in text
    row = next(line for line in text.splitlines() if "violations: one_run_per_job" in line)
    assert row.rstrip(" │").endswith("1")
    assert "20.0x" in text  # virtual / wall
    assert result.to_dict()["violations"] == {"one_run_per_job": 1}
