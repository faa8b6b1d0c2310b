"""Deploy and fly seed 003's lab (Lambdas + Glue jobs + its own state machine) offline.

Filled in by the Glue-lab work; the CLI entry point exists first so `--pipeline glue-lab` is wired.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_command(console: Any, *, inputs: list[Path] | None, state_dir: Path | None, real_time: bool) -> int:
    """`stepbricks run --pipeline glue-lab`: exit code 0 only when every upload took its expected path."""
    console.print("[red]the glue-lab pipeline is not built yet[/red]")
    return 2
