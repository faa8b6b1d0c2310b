"""`stepbricks run --variant resonate`: the flight read back from the promise store, and the whole CLI run."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from harness.resonate_variant import trace_from_promises
from harness.runner import RunResult
from sim.resonate import PromiseServer
from tests import schedule

pytestmark = pytest.mark.xdist_group(schedule.FLIGHTS_IN_SUBPROCESSES)

ROOT = Path(__file__).resolve().parents[2]
STEPBRICKS = Path(sys.executable).with_name("stepbricks")
FAR = 2**50


def _put(server: PromiseServer, pid: str, value: object | None = None, *, state: str = "RESOLVED") -> None:
    requests.post(f"{server.url}/promises", json={"id": pid, "timeout": FAR}, timeout=10).raise_for_status()
    if value is not None or state != "RESOLVED":
        data = base64.b64encode(json.dumps(value).encode()).decode()
        requests.patch(f"{server.url}/promises/{pid}", json={"state": state, "value": {"data": data}},
                       timeout=10).raise_for_status()  # fmt: skip


def test_the_step_promises_read_back_as_state_visits_with_the_outputs_the_summary_uses(tmp_path: Path) -> None:
    etl_out = {"rows_in": 10, "rows_written": 9, "rows_quarantined": 1, "output_uri": "s3://p/batch"}
    run = {"run_id": 5, "job_id": 2, "number_in_job": 1, "run_page_url": "http://x/5"}
    with PromiseServer.start(state_dir=tmp_path) as server:
        _put(server, "r")
        _put(server, "r.ValidateFile", {"isValid": True, "rowCount": 10})
        _put(server, "r.RunEtl")
        _put(server, "r.RunEtl.start", run)
        requests.patch(f"{server.url}/promises/r.RunEtl", timeout=10, json={"state": "RESOLVED", "value": {
            "data": base64.b64encode(json.dumps(json.dumps(etl_out)).encode()).decode()}})  # as /resolve stores it
        _put(server, "r.RunTrain", "the train step failed: boom", state="REJECTED")
        running = trace_from_promises(server.url, "r")
        assert running.status == "RUNNING"
        assert [v.name for v in running.visits] == ["ValidateFile", "RunEtl", "RunTrain"]
        etl = running.visits[1]
        assert etl.output == {"etl": {"output": etl_out, "run": run}} and etl.exited is not None
        assert running.visits[2].error == "StepFailed" and "boom" in running.visits[2].cause
        final = {"status": "FAILED", "error": "Exception", "cause": "boom", "etl": {"output": etl_out, "run": run}}
        data = base64.b64encode(json.dumps(final).encode()).decode()
        requests.patch(f"{server.url}/promises/r", json={"state": "RESOLVED", "value": {"data": data}}, timeout=10)
        done = trace_from_promises(server.url, "r")
    assert done.status == "FAILED" and done.error == "Exception"
    result = RunResult(variant="resonate", input_uri="s3://raw/x.csv", execution_arn="r", trace=done)
    assert result.step_output("etl") == etl_out  # what the summary's data table shows


def test_the_trace_reads_every_page_of_the_promise_search(tmp_path: Path) -> None:
    # The server answers at most 100 promises a page, newest first: the first step is on the last page.
    with PromiseServer.start(state_dir=tmp_path) as server:
        _put(server, "r")
        _put(server, "r.ValidateFile", {"isValid": True, "rowCount": 10})
        for i in range(120):
            _put(server, f"r.ValidateFile.attempt.{i}")  # promises of the run that are no state visits
        assert [v.name for v in trace_from_promises(server.url, "r").visits] == ["ValidateFile"]


RUN_SECONDS = 600  # the simulator, one Spark cluster, three jobs with their resolve tasks, the Resonate venv


@pytest.mark.slow
@pytest.mark.timeout(RUN_SECONDS + 60)
def test_run_variant_resonate_flies_the_pipeline_to_success(tmp_path: Path) -> None:
    env = {**os.environ, "STEPBRICKS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    result = subprocess.run(
        [str(STEPBRICKS), "run", "--variant", "resonate", "--rows", "1500", "--seed", "7",
         "--state-dir", str(tmp_path / "state")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_SECONDS,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "SUCCEEDED" in out and "variant resonate" in out
    for state in ("ValidateFile", "RunEtl", "RunTrain", "RunEvaluate", "NotifySuccess"):
        assert state in out
    assert out.count("TERMINATED SUCCESS") == 3  # the three -resonate job runs in the summary
    reports = list((tmp_path / "home" / "reports").glob("resonate-*.html"))
    assert len(reports) == 1 and "RunEvaluate" in reports[0].read_text()


def test_an_unknown_variant_is_refused_naming_resonate_among_the_choices() -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, ["run", "--variant", "temporal"])
    assert result.exit_code == 2
    assert "polling, callback, map, http, resonate" in " ".join(result.output.split())
