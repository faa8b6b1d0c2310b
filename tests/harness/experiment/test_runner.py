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
