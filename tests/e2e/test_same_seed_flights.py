"""Replayable flights: the reference pipeline flown twice, on two fresh simulators with the same seed and
fault plan, gives byte-identical execution histories (timestamps included), Databricks run lists and
HTML reports. This is what makes an experiment's failing plan replayable.

Left out, because they describe the machine and not the flight: the report's wall-clock duration
("wall_seconds"), and the ports the operating system gave each simulator's servers (in URLs such as a
run's run_page_url), replaced by the placeholders <aws> and <databricks>.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest

from harness.deploy import DeployConfig, deploy
from harness.follow import poll_history
from harness.reporting import report_for_result
from harness.runner import run_pipeline
from harness.views import failure_reason
from sim import faults
from sim.data.generator import generate
from sim.simulator import Simulator

pytestmark = pytest.mark.e2e

SEED = 5


def _fly(root: Path, data: Path) -> dict[str, str]:
    plan = faults.FaultPlan(seed=SEED).add("lambda", "validate-file", attempts=1, error="Lambda.ServiceException")
    with Simulator.start(state_dir=root / "state", fault_plan=plan, seed=SEED, deterministic=True) as sim:
        env = sim.env
        deployment = deploy(env, DeployConfig(poll_seconds=30))
        result = run_pipeline(env, deployment, data, timeout=900)
        assert result.succeeded, (result.trace.error, result.trace.cause, failure_reason(result.trace))
        sfn = sim.aws.client("stepfunctions")
        history = poll_history(sfn, result.execution_arn)  # every page
        listed = _runs_list(env)
        result.wall_seconds = None  # the machine's time, not the flight's (see the module docstring)
        report = report_for_result(env, result, root / "report.html",
                                   faults=[vars(a) for a in sim.faults.applied])
        ports = {sim.aws.endpoint: "<aws>", sim.databricks.host: "<databricks>"}
        return {
            "history": _placeholders(_text(history), ports),
            "runs": _placeholders(_text(listed), ports),
            "report": _placeholders(report.read_text(), ports),
        }


def _placeholders(text: str, urls: dict[str, str]) -> str:
    for url, placeholder in urls.items():
        text = text.replace(url.rstrip("/"), placeholder)
    return text


def _runs_list(env: dict[str, str]) -> list[dict[str, Any]]:
    from harness.clients import workspace_client

    w = workspace_client(env)
    return w.api_client.do("GET", "/api/2.1/jobs/runs/list", query={"expand_tasks": "true", "limit": 25})["runs"]


def _text(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True, indent=1)


def _diff(first: str, second: str) -> str:
    return "".join(list(difflib.unified_diff(first.splitlines(True), second.splitlines(True), n=1))[:80])


def test_two_flights_with_the_same_seed_and_plan_are_identical(tmp_path):
    data = tmp_path / "customers.csv"
    generate(data, rows=1500, seed=SEED, fmt="csv", dirty_share=0.02)
    first, second = _fly(tmp_path / "one", data), _fly(tmp_path / "two", data)
    for part in ("history", "runs", "report"):
        assert first[part] == second[part], f"{part} differs:\n{_diff(first[part], second[part])}"
