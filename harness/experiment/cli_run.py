"""Runs `stepbricks experiment` (placeholder until the runner lands)."""

from __future__ import annotations

from pathlib import Path


def run_command(*, plans: int, seed: int, concurrency: int, rows: int, shrink: bool, out: Path) -> int:
    raise NotImplementedError("the experiment runner is being built")
