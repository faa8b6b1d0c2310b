"""How `make test` spreads the suite over its xdist workers (`--dist loadgroup`, see the Makefile).

Two costs decide the suite's wall time on two cores, and both are about Spark:
- A module-scoped fixture (a private simulator, a `stepbricks up` process, a flight) runs once per
  worker that gets one of its module's tests. Under plain `--dist load` a module's tests are dealt
  out one by one, so a private simulator was started up to three times, each with its own Spark JVM
  (10-15 CPU seconds each). Each such module is therefore one xdist group: one worker, one set-up.
- The slowest tests (whole flights, cluster kills, other processes) must start first, so they overlap
  each other and the short tests fill in behind them instead of trailing at the end.

The order keeps the rule of `conftest.pytest_collection_modifyitems`: in each worker, the tests on the
session simulator come after all the others (moto's `mock_aws` resets the backends that simulator
serves). Workers take units in queue order, so putting every unit without the simulator first keeps
that true on every worker.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

# Rough seconds by marker (a flight, a private cluster, a Spark job, the rest): only the order they give
# matters, and a unit of many quick tests must not outrank one flight.
WEIGHTS = (("e2e", 40.0), ("slow", 20.0), ("spark", 5.0))
QUICK = 0.3
WIDE_SCOPES = frozenset({"module", "package", "class"})


def cost(item: pytest.Item) -> float:
    return next((weight for name, weight in WEIGHTS if item.get_closest_marker(name)), QUICK)


def shared_set_up(item: pytest.Item) -> str | None:
    """The group of a test whose fixtures include a module-, class- or package-scoped one: its module
    (its package for a package-scoped fixture), so the set-up is paid once."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    scopes = {defs[-1].scope for defs in info.name2fixturedefs.values() if defs}
    if "package" in scopes:
        return str(item.path.parent)
    if scopes & WIDE_SCOPES:
        return str(item.path)
    return None


def order(items: list[pytest.Item], on_simulator: Iterable[pytest.Item]) -> list[pytest.Item]:
    """Group wide-scoped set-ups, then order the units: without the session simulator before with it,
    costliest first within each, collection order among equals (stable sort)."""
    simulator_ids = {id(item) for item in on_simulator}
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        group = shared_set_up(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
        units.setdefault(group or item.nodeid, []).append(item)

    def key(unit: list[pytest.Item]) -> tuple[bool, float]:
        uses_simulator = any(id(item) in simulator_ids for item in unit)
        return uses_simulator, -sum(cost(item) for item in unit)

    return [item for unit in sorted(units.values(), key=key) for item in unit]
