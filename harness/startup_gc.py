"""The CLI's simulator processes start without the cyclic collector, then freeze what start-up made.

`stepbricks up`, timed with `gc.callbacks` (docs/performance.md, session 23): three full collections ran before it
answered, 28-35, 58-69 and 105-128 ms, each walking every object the imports had made (moto, botocore, FastAPI,
pydantic) to find 0-20 garbage ones; the last landed inside the workspace's first request. What start-up makes
(modules, classes, the servers) lives as long as the process, so it is frozen once the simulator is up
(`gc.freeze`: never traversed again) and the collector resumes with Python's defaults for what comes after.
The processes of users who embed the simulator (the pytest plugin) are left alone: the collector is theirs.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_start_up", "pause_collector"]


def pause_collector() -> None:
    """No cyclic collections until `freeze_start_up` (reference counting still frees what it can)."""
    gc.disable()


def freeze_start_up() -> None:
    """Move everything alive now out of the collector's reach, and collect again from here on."""
    gc.freeze()
    gc.enable()
