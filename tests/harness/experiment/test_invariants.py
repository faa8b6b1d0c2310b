"""The reference invariants on hand-built evidence, and the registry a user's pipeline extends."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.experiment import invariants
from harness.experiment.observe import Observation
from harness.follow import ExecutionTrace, StateVisit

DEFINITION = {"States": {"Done": {"Type": "Succeed"}, "PipelineFailed": {"Type": "Fail", "Error": "PipelineFailed"},
                         "InputRejected": {"Type": "Fail", "Error": "InputRejected"}}}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _trace(status: str, last: str, error: str | None = None, arn: str = "arn:exec:1") -> ExecutionTrace:
    visit = StateVisit(name=last, type="Succeed", entered=NOW, exited=NOW,
                       output={"etl": {"run_id": 11, "job_id": 1}})
    return ExecutionTrace(execution_arn=arn, status=status, visits=[visit], error=error)


def _obs(**kwargs) -> Observation:
    base = dict(input_uri="s3://raw/incoming/a.csv", key="incoming/a.csv", expected={"rows": 10, "clean_rows": 9},
                expects_success=True, definition=DEFINITION, traces=[_trace("SUCCEEDED", "Done")],
                runs_by_job={"etl": [{"run_id": 11}]},
                notifications=[{"subject": "stepbricks: Pipeline Succeeded", "message": "incoming/a.csv"}],
                manifest={"rows_in": 10, "rows_written": 9, "rows_quarantined": 1},
                written_ids=[f"C{i}" for i in range(9)])
    return Observation(**{**base, **kwargs})


def test_a_clean_flight_breaks_no_invariant():
    assert {k: v for k, v in invariants.check_all(_obs()).items() if v} == {}


def test_a_duplicated_execution_breaks_execution_run_and_notification_invariants():
    two = [_trace("SUCCEEDED", "Done"), _trace("SUCCEEDED", "Done", arn="arn:exec:2")]
    obs = _obs(traces=two, runs_by_job={"etl": [{"run_id": 11}, {"run_id": 12}]},
               notifications=_obs().notifications * 2)
    broken = {k for k, v in invariants.check_all(obs).items() if v}
    assert {"one_execution_per_input", "one_run_per_job", "one_true_notification"} <= broken


def test_a_notification_that_lies_about_the_outcome_is_a_violation():
    obs = _obs(traces=[_trace("FAILED", "PipelineFailed", "PipelineFailed")], expects_success=False)
    assert invariants.one_true_notification(obs)


def test_failing_outside_a_fail_state_is_not_a_designed_end():
    obs = _obs(traces=[_trace("FAILED", "StartEtl", "States.Runtime")], expects_success=False)
    assert "not through a Fail state" in invariants.designed_terminal_state(obs)[0]


def test_a_transient_fault_that_fails_the_execution_is_a_violation():
    obs = _obs(traces=[_trace("FAILED", "PipelineFailed", "PipelineFailed")])
    assert any("within the retries" in p for p in invariants.designed_terminal_state(obs))


def test_rows_written_twice_or_lost_are_violations():
    twice = _obs(written_ids=["C1"] * 2 + [f"C{i}" for i in range(2, 9)])
    assert any("more than once" in p for p in invariants.rows_conserved(twice))
    lost = _obs(manifest={"rows_in": 10, "rows_written": 8, "rows_quarantined": 1})
    assert any("rows in 10" in p for p in invariants.rows_conserved(lost))


def test_a_run_no_execution_knows_and_a_batch_without_manifest_are_violations():
    obs = _obs(runs_by_job={"etl": [{"run_id": 11}], "train": [{"run_id": 99}]},
               incomplete_batches=["processed/batch_id=abc"])
    problems = invariants.nothing_orphaned_or_half_written(obs)
    assert any("run 99" in p for p in problems) and any("batch_id=abc" in p for p in problems)


def test_a_run_the_history_names_but_the_workspace_does_not_list_for_the_input_is_a_violation():
    obs = _obs(runs_by_job={"etl": []})  # the history names run 11; the workspace lists none for this input
    assert invariants.nothing_orphaned_or_half_written(obs) == [
        "incoming/a.csv: run 11 named in an execution's history is not a run of this input"]

def test_a_pipeline_declares_its_own_invariant_with_the_decorator():
    @invariant_named("no_customer_c0")
    def no_customer_c0(obs: Observation) -> list[str]:
        return ["C0 must never be written"] if "C0" in obs.written_ids else []

    try:
        assert invariants.check_all(_obs())["no_customer_c0"] == ["C0 must never be written"]
    finally:
        invariants.unregister("no_customer_c0")
    assert "no_customer_c0" not in invariants.registered()


def test_an_invariant_that_raises_is_reported_not_fatal():
    invariants.register("broken", lambda obs: [1 / 0])
    try:
        assert "ZeroDivisionError" in invariants.check_all(_obs())["broken"][0]
    finally:
        invariants.unregister("broken")


invariant_named = invariants.invariant


def test_a_plan_whose_fault_may_not_land_accepts_either_designed_end():
    succeeded = _obs(expects_success=None)
    failed = _obs(expects_success=None, traces=[_trace("FAILED", "PipelineFailed", "PipelineFailed")])
    assert invariants.designed_terminal_state(succeeded) == []
    assert invariants.designed_terminal_state(failed) == []
