"""Load: many files uploaded at once to one deployment, every execution judged by the same invariants.

Used by `bench/bench_load.py` (100 files, executions per minute, peak RSS) and its smaller test.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness.clients import aws_client
from harness.experiment import invariants as inv
from harness.experiment.model import ExperimentPlan
from harness.experiment.observe import take_snapshot
from harness.experiment.runner import Runner, Slot, Verdict
from sim.data.generator import generate


@dataclass
class LoadResult:
    files: int
    verdicts: list[Verdict] = field(default_factory=list)
    wall_seconds: float = 0.0
    virtual_seconds: float = 0.0
    settled_seconds: float = 0.0  # until every execution had ended; the rest of `wall_seconds` is the judging

    @property
    def succeeded(self) -> int:
        return sum(v.status == "SUCCEEDED" for v in self.verdicts)

    @property
    def executions_per_minute(self) -> float:
        return 60.0 * len(self.verdicts) / self.wall_seconds if self.wall_seconds else 0.0


def fly_many(runner: Runner, slot: Slot, files: int, *, rows: int = 1000, seed: int = 0, tag: str = "load"
             ) -> LoadResult:
    """Upload `files` generated inputs at once (parallel PUTs), wait for every execution, judge each."""
    workdir = runner.workdir
    paths: list[tuple[Path, dict]] = []
    for i in range(files):
        path = workdir / f"{tag}-{seed}-{i:04d}.csv"
        report = generate(path, rows=rows, seed=seed * 100_000 + i, fmt="csv", dirty_share=0.02)
        paths.append((path, {"rows": report.rows, "clean_rows": report.clean_rows}))
    bucket = slot.deployment.buckets["raw"]
    s3 = aws_client("s3", runner.env)
    started, virtual_start = time.monotonic(), runner.sim.clock.now()

    def upload(item: tuple[Path, dict]) -> str:
        key = f"incoming/{item[0].name}"
        s3.upload_file(str(item[0]), bucket, key)
        return key

    with ThreadPoolExecutor(max_workers=min(16, files)) as pool:
        keys = list(pool.map(upload, paths))
    result = LoadResult(files=files)
    # Every execution settles before any is judged: an output another execution is still writing is
    # in progress, not half-written (judging file 0 while file 99's ETL ran flagged its batch).
    settled = [runner.settle(slot.deployment.state_machines["polling"], bucket, key) for key in keys]
    result.settled_seconds = time.monotonic() - started
    since_ms = int(virtual_start * 1000)
    d = slot.deployment
    snapshot = take_snapshot(runner.clients(slot), d.state_machines["polling"], d.jobs, d.buckets["processed"],
                             since_ms)  # what every input's judge reads, read once
    for key, arns, (path, expected) in zip(keys, settled, paths, strict=True):
        path.unlink(missing_ok=True)
        verdict = Verdict(plan=ExperimentPlan(len(result.verdicts)), key=key, execution_arns=arns)
        verdict.observation = obs = runner.observe(slot, verdict.plan, key, expected, since_ms=since_ms,
                                                   snapshot=snapshot)
        verdict.status = ",".join(sorted({t.status for t in obs.traces})) or "NO_EXECUTION"
        verdict.violations = {k: v for k, v in inv.check_all(obs, runner.config.invariants).items() if v}
        result.verdicts.append(verdict)
    result.wall_seconds = time.monotonic() - started
    result.virtual_seconds = runner.sim.clock.now() - virtual_start
    return result
