"""One generated fault scenario per Retry and Catch edge: every error path of a machine in one line."""

from __future__ import annotations

import pytest

from asl.graph import EdgeKind
from harness.coverage import coverage_for
from harness.follow import poll_history
from harness.scenarios import INJECTED, fault_scenarios
from sim import faults
from tests.harness.conftest import DEFINITION
from tests.harness.executions import run_to_end

SCENARIOS = fault_scenarios(DEFINITION, "harness-small")


def test_one_scenario_per_retry_and_catch_edge_with_a_concrete_matching_error():
    ids = [p.values[0].id for p in SCENARIOS]
    assert ids == ["CallFlaky-retry0-Flaky", f"CallFlaky-catch0-{INJECTED}"]


def test_http_task_retriers_get_a_scenario_with_an_http_status_error():
    import asl

    definition = asl.load("pipeline_http")
    scenarios = {p.values[0].id: p.values[0] for p in fault_scenarios(definition, "pipeline-http")}
    retry = scenarios["CheckEtl-retry0-States.Http.StatusCode.429"]
    assert (retry.kind, retry.expected_next) == (EdgeKind.RETRY, "CheckEtl")
    assert f"CheckEtl-catch0-{INJECTED}" in scenarios


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_generated_scenario_takes_its_edge(stepbricks, small_machine, scenario):
    previous = faults.activate(scenario.plan)
    try:
        arn = run_to_end(stepbricks, small_machine["arn"], {"key": f"scenario-{scenario.id}"}, scenario.id)
    finally:
        faults.activate(previous)
    history = poll_history(stepbricks.client("stepfunctions"), arn)
    cov = coverage_for("small", small_machine["definition"], [history])

    edge = next(e for e in cov.graph.edges_from(scenario.state, scenario.kind) if e.index == scenario.index)
    assert cov.edges[edge] == 1, f"{scenario.id} did not take {edge.label}"
    if scenario.kind is EdgeKind.CATCH:
        assert cov.states[scenario.expected_next] == 1
    assert any(a.label.endswith(scenario.state) for a in scenario.plan.applied)
