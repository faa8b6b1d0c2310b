"""`stepbricks experiment` from the command line: it flies the seeded plans, shows the summary table, writes
the verdicts file and answers with exit code 0 when no invariant broke.

The command brings up its own simulators, one per slot; here it is handed the session's (same class,
already warm) so the spec costs two flights instead of a second Spark cluster start. Everything else is the command as a
user runs it: typer's option parsing, the progress bar, the table, the files, the exit code."""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.experiment.model import FaultModel
from sim.simulator import Simulator

pytestmark = pytest.mark.e2e

SEED = 11
PLANS = 2


@pytest.fixture()
def session_simulator_for_the_command(stepbricks, monkeypatch) -> list[dict]:
    """The options the command starts its simulator with, one dict per start."""
    sim = stepbricks.require_simulator("the experiment command flies plans on the virtual clock")
    starts: list[dict] = []

    def start(cls, *args, **options):
        starts.append(options)
        return nullcontext(sim)

    monkeypatch.setattr(Simulator, "start", classmethod(start))
    return starts


def test_experiment_command_flies_seeded_plans_and_reports_a_table_verdicts_and_exit_code(
    session_simulator_for_the_command, tmp_path
):
    result = CliRunner().invoke(app, ["experiment", "--plans", str(PLANS), "--seed", str(SEED),
                                      "--concurrency", "1", "--rows", "300", "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    # Plans kill cluster workers: a restart leases a warm standby instead of starting a JVM (sim.compute.pool).
    assert [options.get("standby_worker") for options in session_simulator_for_the_command] == [True]
    for line in ("plans run", "faults applied", "violations: one_execution_per_input", "virtual time"):
        assert line in result.output, line
    saved = json.loads((tmp_path / f"experiment-seed{SEED}.json").read_text())
    assert saved["plans"] == PLANS and saved["violations"] == {} and saved["findings"] == []
    drawn = FaultModel().draw_many(SEED, PLANS)
    assert [v["plan"]["index"] for v in saved["verdicts"]] == [p.index for p in drawn]
    assert all(v["status"] in {"SUCCEEDED", "FAILED"} for v in saved["verdicts"])


def test_experiment_command_starts_a_simulator_for_each_slot(session_simulator_for_the_command, tmp_path):
    """One clock per slot: a slot's waits skip while another slot computes (harness/experiment/runner.py)."""
    result = CliRunner().invoke(app, ["experiment", "--plans", "0", "--concurrency", "2", "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert [options.get("standby_worker") for options in session_simulator_for_the_command] == [True, True]


def test_experiment_command_rejects_a_bad_option_with_the_usage_error():
    result = CliRunner().invoke(app, ["experiment", "--plans", "many"])

    assert result.exit_code == 2
    assert "--plans" in result.output
