"""The order `tests/schedule.py` gives the suite, checked on the suite itself (this session's items)."""

from __future__ import annotations

import itertools

import pytest

from tests import schedule


def _uses_simulator(item: pytest.Item) -> bool:
    return "stepbricks" in getattr(item, "fixturenames", ())


def test_every_test_on_the_session_simulator_comes_after_every_unit_without_it(request: pytest.FixtureRequest):
    items = request.session.items
    units = [list(unit) for _, unit in itertools.groupby(items, key=lambda i: schedule.shared_set_up(i) or i.nodeid)]
    first_on_simulator = next((n for n, unit in enumerate(units) if any(_uses_simulator(i) for i in unit)), len(units))
    late = [unit[0].nodeid for unit in units[first_on_simulator:] if not any(_uses_simulator(i) for i in unit)]
    assert late == [], "moto's mock_aws would reset the session simulator's backends under these"


def test_a_module_with_a_module_scoped_fixture_is_one_contiguous_xdist_group(request: pytest.FixtureRequest):
    grouped = [(schedule.shared_set_up(i), i) for i in request.session.items if schedule.shared_set_up(i)]
    runs = [group for group, _ in itertools.groupby(grouped, key=lambda pair: pair[0])]
    assert len(runs) == len(set(runs)), "a module's set-up would run twice on one worker"
    for group, item in grouped:
        assert any(mark.args == (group,) for mark in item.iter_markers("xdist_group")), item.nodeid
