"""A simulator on the virtual clock per module (fixtures in tests/sim/clock/flying.py)."""

from tests.sim.clock.flying import fly, make_function, role_arn, sim  # noqa: F401
