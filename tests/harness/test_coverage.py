"""State machine coverage from real execution histories: states, Choice rules, Default, Retry, Catch."""

from __future__ import annotations

from asl.graph import EdgeKind
from harness.coverage import collect, coverage_for, from_wire, merge, to_json, to_wire
from harness.follow import poll_history
from tests.harness.executions import run_to_end


def _edge_hits(cov, kind, source):
    return {e.target: cov.edges[e] for e in cov.graph.edges_from(source, kind)}


def test_a_retry_then_success_covers_the_retry_edge_and_next(stepbricks, small_machine):
    arn = run_to_end(stepbricks, small_machine["arn"], {"key": "cov-retry", "fail_times": 1}, "cov-retry")
    cov = coverage_for("small", small_machine["definition"], [poll_history(stepbricks.client("stepfunctions"), arn)])

    assert _edge_hits(cov, EdgeKind.DEFAULT, "Route") == {"CallFlaky": 1}
    assert _edge_hits(cov, EdgeKind.RETRY, "CallFlaky") == {"CallFlaky": 1}
    assert _edge_hits(cov, EdgeKind.NEXT, "CallFlaky") == {"Done": 1}
    assert _edge_hits(cov, EdgeKind.CATCH, "CallFlaky") == {"Failed": 0}
    assert cov.states["Skipped"] == 0


def test_a_failure_covers_the_catch_edge_and_the_choice_rule_is_attributed(stepbricks, small_machine):
    sfn = stepbricks.client("stepfunctions")
    failed = run_to_end(stepbricks, small_machine["arn"], {"key": "cov-fail", "always_fail": True}, "cov-fail")
    skipped = run_to_end(stepbricks, small_machine["arn"], {"mode": "skip"}, "cov-skip")

    cov = coverage_for(
        "small", small_machine["definition"], [poll_history(sfn, failed), poll_history(sfn, skipped)]
    )

    assert _edge_hits(cov, EdgeKind.CATCH, "CallFlaky") == {"Failed": 1}
    assert _edge_hits(cov, EdgeKind.CHOICE, "Route") == {"Skipped": 1}
    assert cov.states["Failed"] == 1


def test_collect_reads_every_machine_and_reports_missed_edges(stepbricks, small_machine):
    run_to_end(stepbricks, small_machine["arn"], {"mode": "skip"}, "cov-collect")
    report = to_json(collect(stepbricks.client("stepfunctions")))

    small = report["harness-small"]
    assert small["executions"] >= 1
    assert 0 < small["edge_percent"] <= 100
    assert all("->" in edge for edge in small["missed_edges"])


def test_coverage_split_across_xdist_workers_merges_into_the_coverage_of_all_executions(stepbricks, small_machine):
    """Under pytest-xdist each worker has its own simulator: the controller must report the union."""
    sfn = stepbricks.client("stepfunctions")
    retried = poll_history(sfn, run_to_end(stepbricks, small_machine["arn"], {"key": "cov-w1", "fail_times": 1},
                                           "cov-w1"))
    caught = poll_history(sfn, run_to_end(stepbricks, small_machine["arn"], {"key": "cov-w2", "always_fail": True},
                                          "cov-w2"))
    definition = small_machine["definition"]
    shares = [coverage_for("small", definition, [retried]), coverage_for("small", definition, [caught])]

    (merged,) = merge(cov for share in shares for cov in from_wire(to_wire([share])))  # via the wire, as sent
    whole = coverage_for("small", definition, [retried, caught])

    assert merged.executions == whole.executions == 2
    assert merged.states == whole.states
    assert merged.edges == whole.edges
    assert _edge_hits(merged, EdgeKind.CATCH, "CallFlaky") == {"Failed": 1}
    assert _edge_hits(merged, EdgeKind.RETRY, "CallFlaky") == {"CallFlaky": 1}


def test_the_xdist_controller_folds_each_workers_coverage_into_its_report(small_machine):
    from types import SimpleNamespace

    import pytest

    from harness import pytest_plugin

    definition = small_machine["definition"]
    config = SimpleNamespace(stash=pytest.Stash())
    for executions in (1, 2):
        share = coverage_for("small", definition, ())
        share.executions = executions
        pytest_plugin.pytest_testnodedown(SimpleNamespace(config=config, workeroutput={
            pytest_plugin._WIRE: to_wire([share])}), error=None)
    pytest_plugin.pytest_testnodedown(SimpleNamespace(config=config, workeroutput={}), error=None)  # no coverage

    (folded,) = config.stash[pytest_plugin._COVERAGE]
    assert folded.executions == 3
