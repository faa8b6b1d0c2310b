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
        (["--enforce-iam"], "--enforce-iam"),
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


def test_enforce_iam_is_refused_on_a_backend_the_simulator_does_not_run(tmp_path):
    """IAM evaluation is the embedded simulator's switch: elsewhere the endpoints decide for themselves."""
    data = tmp_path / "in.csv"
    data.write_text("x\n1\n")
    result = CliRunner().invoke(app, ["run", "--enforce-iam", "--backend", "external", "--input", str(data)],
                                env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "DATABRICKS_HOST": "http://127.0.0.1:9",
                                     "DATABRICKS_TOKEN": "x"})
    assert result.exit_code == 2, result.output
    assert "--enforce-iam switches the embedded simulator's IAM evaluation; backend is external" in " ".join(
        result.output.split())


@pytest.mark.parametrize("command", [["run", "--rows", "10"], ["up"]])
def test_an_unknown_spark_url_is_refused_before_anything_starts(command, tmp_path):
    result = CliRunner().invoke(app, [*command, "--spark", "yarn"], env={"STEPBRICKS_HOME": str(tmp_path)})
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "--spark: unknown Spark URL 'yarn': expected local, local[N], spark://host:port" in text
    assert "generated" not in text  # refused before the input file was made


def test_spark_and_mlflow_options_are_refused_on_a_backend_that_is_not_the_simulator(tmp_path):
    result = CliRunner().invoke(app, ["run", "--rows", "10", "--backend", "external", "--spark", "spark://h:7077"],
                                env={"STEPBRICKS_HOME": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert "--spark and --mlflow configure the embedded simulator; backend is external" in " ".join(result.output.split())


def test_run_opens_its_backend_as_a_flight_that_trains(monkeypatch, tmp_path):
    """So the embedded cluster imports MLflow and scikit-learn before its first training (harness.backends)."""
    from contextlib import contextmanager

    from harness.backends import BackendError

    opened: list[dict] = []

    @contextmanager
    def refuse(name, **options):
        opened.append(options)
        raise BackendError("stop here")
        yield

    monkeypatch.setattr("harness.backends.open_backend", refuse)
    result = CliRunner().invoke(app, ["run", "--rows", "10"], env={"STEPBRICKS_HOME": str(tmp_path)})
    assert result.exit_code == 2 and "stop here" in result.output, result.output
    assert [options["trains"] for options in opened] == [True]
