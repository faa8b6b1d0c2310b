"""How the runner spreads plans over its slots: one simulator's slots share a fault plan and fly in
batches; slots on simulators of their own fly independently; a mix of the two is refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.experiment.runner import ExperimentConfig, Runner, Slot


def _slot(index: int, sim: object | None = None) -> Slot:
    return Slot(index, SimpleNamespace(config=SimpleNamespace(prefix="")), sim=sim, env={} if sim else None)


def test_slots_either_share_the_runners_simulator_or_each_bring_their_own(tmp_path):
    runner_sim, own = object(), object()
    shared = Runner(runner_sim, {}, [_slot(0), _slot(1)], ExperimentConfig(), workdir=tmp_path)
    assert shared.simulators() == [runner_sim] and not shared._independent()
    separate = Runner(runner_sim, {}, [_slot(0), _slot(1, own)], ExperimentConfig(), workdir=tmp_path)
    assert separate.simulators() == [runner_sim, own] and separate._independent()
    with pytest.raises(ValueError, match="either all fly on one simulator or each on a simulator of its own"):
        Runner(runner_sim, {}, [_slot(0), _slot(1), _slot(2, own)], ExperimentConfig(), workdir=tmp_path)


class _Executions:
    """A state machine's executions as `settle` sees them: the trigger side goes quiet after `busy_polls`
    polls, a redelivery's duplicate execution appears only then, and each execution ends after `runs` polls."""

    def __init__(self, busy_polls: int, runs: int) -> None:
        self.busy_polls, self.runs = busy_polls, runs
        self.listings = self.polls = 0
        self.described: dict[str, int] = {}

    # sim.aws
    def wait_for_async(self, _timeout: float) -> bool:
        self.polls += 1
        return self.polls > self.busy_polls

    def s3_deliveries(self, _bucket: str) -> list:
        return []

    # ListExecutions (harness.experiment.observe.executions_for) and DescribeExecution
    def list_for(self, *_args: object, **_clients: object) -> list[str]:
        self.listings += 1
        return ["arn:first", "arn:duplicate"] if self.polls > self.busy_polls else ["arn:first"]

    def describe_execution(self, executionArn: str) -> dict:
        self.described[executionArn] = self.described.get(executionArn, 0) + 1
        return {"status": "SUCCEEDED" if self.described[executionArn] > self.runs else "RUNNING"}


def test_settle_lists_executions_until_the_triggers_are_quiet_then_polls_only_their_statuses(tmp_path, monkeypatch):
    from harness.experiment import runner as runner_module

    executions = _Executions(busy_polls=2, runs=6)
    monkeypatch.setattr(runner_module, "executions_for", executions.list_for)
    monkeypatch.setattr(runner_module, "aws_client", lambda _service, _env: executions)
    monkeypatch.setattr(runner_module.time, "sleep", lambda _s: None)
    sim = SimpleNamespace(aws=executions)
    runner = Runner(sim, {}, [_slot(0)], ExperimentConfig(), workdir=tmp_path)

    arns = runner.settle("arn:machine", "raw", "incoming/a.csv")

    # the listing taken once the triggers were quiet is final: it holds the late duplicate
    assert arns == ["arn:first", "arn:duplicate"]
    # two listings while a trigger was still at work, one once quiet, none while the executions ran
    assert executions.listings == 3
    # and the statuses were polled until both had ended: 6 RUNNING answers each, then SUCCEEDED
    assert executions.described == {"arn:first": 2 + 7, "arn:duplicate": 7}
