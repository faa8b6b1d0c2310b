"""Load, the small version of bench/bench_load.py (100 files): files uploaded at once each get one
execution, all succeed, every invariant holds for each, and the whole process tree stays bounded."""

from __future__ import annotations

import os

import pytest

from bench.bench_pipeline import PeakSampler
from harness.experiment.load import fly_many
from tests.reliability.conftest import make_runner

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FILES = int(os.environ.get("STEPBRICKS_LOAD_FILES", "4"))
PEAK_RSS_LIMIT_MB = 5000  # 4 files: 2,416 MB; 100 files (bench_load): 3,684 MB. At most 8 busy Lambda environments (capacity.py)


def test_files_uploaded_at_once_all_succeed_with_complete_outputs_in_bounded_memory(
    stepbricks, experiment_env, shipped_slots
):
    runner = make_runner(stepbricks, experiment_env, shipped_slots[:1], rows=1000)

    with PeakSampler() as peak:
        result = fly_many(runner, shipped_slots[0], FILES, rows=1000, seed=11)

    assert result.succeeded == FILES, [(v.key, v.status) for v in result.verdicts]
    assert all(v.ok for v in result.verdicts), {v.key: v.violations for v in result.verdicts if not v.ok}
    assert all(v.observation.manifest for v in result.verdicts), "an execution succeeded without its batch"
    assert 0 < peak.peak < PEAK_RSS_LIMIT_MB
