"""Waiting for a run's end the way a test needs it: on the simulator's clock, failing with the run id."""

from __future__ import annotations

from databricks.sdk.service import jobs

from sim import clock

__all__ = ["wait_terminal"]


def wait_terminal(client, run_id: int, timeout: float = 120) -> jobs.Run:
    deadline = clock.now() + timeout
    while clock.now() < deadline:
        run = client.jobs.get_run(run_id)
        if run.state.life_cycle_state.value in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return run
        clock.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")
