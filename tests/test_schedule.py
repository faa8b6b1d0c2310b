"""The order `tests/schedule.py` gives the suite, checked on the suite itself (this session's items)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import schedule

ROOT = Path(__file__).resolve().parents[1]


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


def test_xdist_runs_a_groups_tests_on_one_worker_so_its_module_set_up_runs_once(tmp_path: Path):
    """End to end through pytest-xdist, on a throwaway module: the marks alone were not enough (pytest 9
    ignores the node-id suffix xdist 3.8 assigns, so groups were dealt out test by test)."""
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import pytest
        from tests import schedule

        @pytest.hookimpl(tryfirst=True)
        def pytest_collection_modifyitems(config, items):
            items[:] = schedule.order(items, [])
            schedule.name_groups_for_xdist(config, items)
    """))
    (tmp_path / "test_grouped.py").write_text(textwrap.dedent("""
        import os
        import pytest

        @pytest.fixture(scope="module")
        def set_up(tmp_path_factory):
            with open(os.environ["SET_UPS"], "a") as out:
                out.write(os.environ.get("PYTEST_XDIST_WORKER", "main") + "\\n")

        @pytest.mark.parametrize("n", range(8))
        def test_uses_the_module_set_up(set_up, n):
            pass
    """))
    set_ups = tmp_path / "set_ups.txt"
    run = subprocess.run([sys.executable, "-m", "pytest", "-n", "3", "--dist", "loadgroup", "-p", "no:stepbricks",
                          "-p", "no:cacheprovider", "-q", str(tmp_path)],
                         cwd=tmp_path, env={**os.environ, "SET_UPS": str(set_ups)}, capture_output=True, text=True,
                         timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout
    assert len(set_ups.read_text().split()) == 1, set_ups.read_text()
