"""How `make test` spreads the suite over its xdist workers (`--dist loadgroup`, see the Makefile).

A module-scoped fixture (a private simulator, a `stepbricks up` process, a flight) runs once per worker
that gets one of its module's tests. Under plain `--dist load` a module's tests could be dealt out to
several workers, each then starting that private simulator with its own Spark JVM (10-15 CPU seconds).
Each such module is therefore one xdist group: one worker, one set-up.

A module may also name its group (`pytest.mark.xdist_group(name)` in its `pytestmark`) so that several
modules share one worker:
- `FLIGHTS_IN_SUBPROCESSES`: the modules that fly `stepbricks run` or `up` as processes of their own. Side
  by side on three workers each started a Spark JVM; one after the other, each leaves its idle cluster
  worker in the suite's `STEPBRICKS_WORKER_POOL_DIR` (tests/conftest.py) for the next to lease
  (sim.compute.shared_pool).
- a session-scoped fixture's name (`bundle_targets`): modules whose session fixture, other than the suite's
  session simulator, starts a workspace their tests run jobs on; it would start, with its cluster's JVM, on
  every worker that got one of their tests.
- `SPARK_FIXTURE`: the modules whose tests run the ETL on the suite's `spark` session (tests/conftest.py):
  tests/etl's and tests/ml/test_ml_reads_etl_output.py. Dealt out test by test, each worker started that
  JVM and compiled the ETL's plans in it again (its first `run_etl` costs several CPU seconds more than the
  next, docs/performance.md). tests/ml's modules on its session moto state (`ml_stack`) stay out: their
  unit would then run before tests/lambdas (see below).
Named groups go first: they are the longest units, and a long unit dealt out last keeps one worker busy
while the others idle.

The collection order is otherwise kept, tests on the session simulator last
(`conftest.pytest_collection_modifyitems`). Ordering the units by cost was tried and undone: it split
directories whose session-scoped moto state (tests/ml, the bundle tests, Glue) must not see the
in-process `mock_aws` tests of tests/lambdas run in between, since `mock_aws` resets moto's backends.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

WIDE_SCOPES = frozenset({"module", "package", "class"})
FLIGHTS_IN_SUBPROCESSES = "flights-in-subprocesses"
SPARK_FIXTURE = "spark"


def named_group(item: pytest.Item) -> str | None:
    """The group a module named itself (`pytest.mark.xdist_group(name)`), if any."""
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


def group_of(item: pytest.Item) -> str | None:
    """The xdist group a test runs in: the one its module named, else its wide-scoped set-up's."""
    return named_group(item) or shared_set_up(item)


def shared_set_up(item: pytest.Item) -> str | None:
    """The group of a test whose fixtures include a module-, class- or package-scoped one: its module
    (its package for a package-scoped fixture), so the set-up is paid once."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    scopes = {defs[-1].scope for defs in info.name2fixturedefs.values() if defs}
    if "package" in scopes:
        return _relative(item, item.path.parent)
    if scopes & WIDE_SCOPES:
        return _relative(item, item.path)
    return None


def _relative(item: pytest.Item, path: Path) -> str:
    """The group's name as xdist shows it after each test's id: the path from the root, not the machine's."""
    try:
        return path.relative_to(item.config.rootpath).as_posix()
    except ValueError:
        return str(path)


def order(items: list[pytest.Item], on_simulator: Iterable[pytest.Item]) -> list[pytest.Item]:
    """Group wide-scoped set-ups; units without the session simulator before those with it, named groups
    first within each, else in collection order (a group sits where its first test was collected)."""
    simulator_ids = {id(item) for item in on_simulator}
    units: dict[str, list[pytest.Item]] = {}
    named: set[str] = set()  # before the loop marks module groups, which `named_group` would then return too
    for item in items:
        group = named_group(item)
        if group is not None:
            named.add(group)
        else:
            group = shared_set_up(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))
        units.setdefault(group or item.nodeid, []).append(item)

    def key(unit: list[pytest.Item]) -> tuple[bool, bool]:
        return any(id(item) in simulator_ids for item in unit), (group_of(unit[0]) or "") not in named

    return [item for unit in sorted(units.values(), key=key) for item in unit]


def name_groups_for_xdist(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put each group's name in its tests' node ids, as pytest-xdist's worker does, where xdist cannot.

    xdist's `--dist loadgroup` reads a test's group from a `@group` suffix of its node id, which its worker
    adds by assigning `item._nodeid` (xdist 3.8, remote.py). pytest 9 keeps node ids as structured
    `_id`s, so that assignment changes nothing: every group was dealt out test by test, and a module's
    private simulator started on every worker that got one of its tests (tests/harness/test_cli.py's
    `stepbricks up`, three times). Specified by tests/test_schedule.py."""
    if not getattr(config.option, "loadgroup", False):  # set in xdist's workers under --dist loadgroup
        return
    from _pytest.nodeid import NodeId  # pytest >= 9 only, where `_id` replaced `_nodeid`

    for item in items:
        if not hasattr(item, "_id"):  # pytest < 9: xdist's own suffix works
            continue
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")
