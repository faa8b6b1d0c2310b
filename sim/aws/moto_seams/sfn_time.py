"""Step Functions on the simulator's clock, and fault plans inside the interpreter.

Patches the places moto's ASL interpreter reads the wall clock (Wait, Retry back-off, task timeouts and
heartbeats, callback waits, event timestamps) to use `sim.clock`; registered with `core.register`.
"""

from __future__ import annotations

from sim.aws.moto_seams.core import register

register([], [])
