"""A load's inputs are judged from one snapshot taken after every flight ended (`take_snapshot`): the same
evidence as judging each input on its own, read once instead of once per input."""

from __future__ import annotations

import pytest

from harness.experiment.load import fly_many
from tests.reliability.conftest import make_runner

pytestmark = pytest.mark.e2e


def _runs(observation) -> dict[str, list[int]]:
    return {job: sorted(run["run_id"] for run in runs) for job, runs in observation.runs_by_job.items()}


def test_judging_from_the_loads_snapshot_gives_each_input_its_own_evidence(stepbricks, experiment_env, shipped_slots):
    runner = make_runner(stepbricks, experiment_env, shipped_slots[:1], rows=1000)

    result = fly_many(runner, shipped_slots[0], 2, rows=1000, seed=12, tag="judged")

    assert result.succeeded == 2 and all(v.ok for v in result.verdicts), [(v.status, v.violations) for v in result.verdicts]
    for verdict in result.verdicts:
        held = verdict.observation
        alone = runner.observe(shipped_slots[0], verdict.plan, verdict.key, held.expected)
        assert held.manifest is not None and held.manifest == alone.manifest
        assert held.written_ids == alone.written_ids and len(held.written_ids) == held.expected["clean_rows"]
        assert _runs(held) == _runs(alone) and all(len(ids) == 1 for ids in _runs(held).values())
        assert [(t.status, len(t.visits)) for t in held.traces] == [(t.status, len(t.visits)) for t in alone.traces]
    assert result.verdicts[0].observation.manifest != result.verdicts[1].observation.manifest  # each its own
