"""`stepbricks run` refuses what it cannot honour, before starting anything, and says which option."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harness.cli import app


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--variant", "callback"], "--variant"),
        (["--faults", "plan.yaml"], "--faults"),
        (["--backend", "external"], "--backend"),
        (["--rows", "10", "--seed", "3"], "--rows, --seed"),
    ],
)
def test_glue_lab_refuses_the_options_it_cannot_honour_naming_them(args, named):
    """`--pipeline glue-lab` used to ignore them silently."""
    result = CliRunner().invoke(app, ["run", "--pipeline", "glue-lab", *args])
    assert result.exit_code == 2, result.output
    assert f"{named} cannot be used with --pipeline glue-lab" in " ".join(result.output.split())


def test_an_unknown_pipeline_is_refused_naming_the_choices():
    result = CliRunner().invoke(app, ["run", "--pipeline", "airflow"])
    assert result.exit_code == 2
    assert "--pipeline must be reference or glue-lab" in result.output
