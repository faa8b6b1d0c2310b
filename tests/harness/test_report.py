"""The run report: one self-contained HTML file, graph and path, timeline, no secret anywhere."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from harness.follow import poll_history, trace_from_history
from harness.report import ReportData, write_report
from tests.harness.executions import run_to_end

SECRET = "dapi-not-a-real-secret-0123456789"


@pytest.fixture(scope="module")
def report_path(stepbricks, small_machine, tmp_path_factory):
    sfn = stepbricks.client("stepfunctions")
    arn = run_to_end(stepbricks, small_machine["arn"], {"key": "report", "fail_times": 1}, "report-run")
    trace = trace_from_history(arn, poll_history(sfn, arn))
    data = ReportData(
        title="harness-small",
        definition=small_machine["definition"],
        trace=trace,
        wall_seconds=1.5,
        faults=[{"at": 0, "target": "lambda:harness-flaky", "occurrence": 1, "effect": {"error": "Flaky"}}],
        notifications=[{"subject": "done", "message": f"token was {SECRET}"}],
        secrets=[SECRET],
    )
    return write_report(data, tmp_path_factory.mktemp("report") / "report.html")


def test_the_report_is_one_self_contained_file_with_the_graph_and_the_path_taken(report_path):
    html = report_path.read_text()
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="state-graph"' in html
    assert 'class="state visited" data-state="CallFlaky"' in html
    assert 'class="state" data-state="Skipped"' in html
    assert "<script" not in html and "http://" not in html.split("<svg", 1)[0].split("<body>", 1)[1]


def test_the_timeline_shows_the_retry_and_the_faults_table_the_fault(report_path):
    html = report_path.read_text()
    assert "1 retries" in html
    assert "lambda:harness-flaky" in html


def test_no_secret_appears_in_the_report(report_path):
    html = report_path.read_text()
    assert SECRET not in html
    assert "[REDACTED]" in html


def test_the_report_renders_in_headless_chromium_and_a_screenshot_is_taken(report_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when it can: apt-get install chromium)")
    shot = report_path.with_suffix(".png")
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={report_path.parent / 'profile'}", "--dump-dom", report_path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'id="state-graph"' in dom.stdout and 'data-state="CallFlaky"' in dom.stdout
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={report_path.parent / 'profile'}", "--window-size=1280,1600",
         f"--screenshot={shot}", report_path.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
