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
    units = [list(unit) for _, unit in itertools.groupby(items, key=lambda i: schedule.group_of(i) or i.nodeid)]
    first_on_simulator = next((n for n, unit in enumerate(units) if any(_uses_simulator(i) for i in unit)), len(units))
    late = [unit[0].nodeid for unit in units[first_on_simulator:] if not any(_uses_simulator(i) for i in unit)]
    assert late == [], "moto's mock_aws would reset the session simulator's backends under these"


def test_a_module_with_a_module_scoped_fixture_is_one_contiguous_xdist_group(request: pytest.FixtureRequest):
    grouped = [(schedule.group_of(i), i) for i in request.session.items if schedule.group_of(i)]
    runs = [group for group, _ in itertools.groupby(grouped, key=lambda pair: pair[0])]
    assert len(runs) == len(set(runs)), "a module's set-up would run twice on one worker"
    for group, item in grouped:
        assert [mark.args for mark in item.iter_markers("xdist_group")] == [(group,)], item.nodeid


def test_the_flights_in_subprocesses_run_one_after_another_on_one_worker_before_the_unnamed_units(
    request: pytest.FixtureRequest,
):
    """So each `stepbricks run` / `up` process leaves its idle cluster worker for the next one to lease."""
    items = request.session.items
    flights = [n for n, item in enumerate(items) if schedule.group_of(item) == schedule.FLIGHTS_IN_SUBPROCESSES]
    if not flights:
        pytest.skip("checked on the whole suite: none of the flights' modules was collected in this run")
    modules = {items[n].path.name for n in flights}
    assert {"test_cli.py", "test_native_variant.py", "test_resonate_variant.py", "test_external_backend.py"} <= modules
    assert flights == list(range(flights[0], flights[-1] + 1)), "one contiguous unit"
    assert {schedule.group_of(item) for item in items[:flights[0]]} <= {"bundle_targets"}


def test_the_etl_s_users_of_the_suite_s_spark_session_run_one_after_another_on_one_worker(
    request: pytest.FixtureRequest,
):
    """One `spark` JVM compiles the ETL's plans once, instead of one on every worker."""
    items = request.session.items
    etl = [n for n, item in enumerate(items)
           if ("/tests/etl/" in str(item.path) and "spark" in getattr(item, "fixturenames", ()))
           or item.path.name == "test_ml_reads_etl_output.py"]
    if len({items[n].path for n in etl}) < 2:
        pytest.skip("checked on the whole suite: fewer than two of the ETL's Spark modules were collected")
    assert {schedule.group_of(items[n]) for n in etl} == {schedule.SPARK_FIXTURE}
    grouped = [n for n, item in enumerate(items) if schedule.group_of(item) == schedule.SPARK_FIXTURE]
    assert grouped == list(range(grouped[0], grouped[-1] + 1)), "one contiguous unit"


def test_tests_lambdas_mock_aws_tests_come_before_every_test_on_tests_ml_s_session_moto_state(
    request: pytest.FixtureRequest,
):
    """`mock_aws` resets moto's process-wide backends when it stops, the ones tests/ml's session server
    (`ml_stack`) serves; a tests/ml module off that server may run earlier."""
    items = request.session.items
    lambdas = [n for n, item in enumerate(items) if "/tests/lambdas/" in str(item.path)]
    ml = [n for n, item in enumerate(items)
          if "/tests/ml/" in str(item.path) and "ml_stack" in getattr(item, "fixturenames", ())]
    if not lambdas or not ml:
        pytest.skip("checked on the whole suite: tests/lambdas or tests/ml was not collected in this run")
    assert max(lambdas) < min(ml), [items[n].nodeid for n in ml if n < max(lambdas)][:5]


def test_a_module_s_own_group_replaces_its_module_group_and_units_without_the_simulator_stay_first(
    monkeypatch: pytest.MonkeyPatch,
):
    class Item:
        def __init__(self, nodeid: str, named: str | None = None, module_scoped: bool = False) -> None:
            self.nodeid, self.marks = nodeid, [pytest.mark.xdist_group(named).mark] if named else []
            self.module_scoped = module_scoped

        def get_closest_marker(self, name: str):
            return next((m for m in reversed(self.marks) if m.name == name), None)

        def iter_markers(self, name: str):
            return (m for m in self.marks if m.name == name)

        def add_marker(self, marker) -> None:
            self.marks.append(marker.mark)

    plain, on_sim, module_group = Item("a.py::t"), Item("s.py::t"), Item("m.py::t", module_scoped=True)
    named_1, named_2 = Item("b.py::t", "chain", module_scoped=True), Item("c.py::t", "chain")
    named_on_sim = Item("d.py::t", "later")
    monkeypatch.setattr(schedule, "shared_set_up", lambda item: item.nodeid.split("::")[0] if item.module_scoped
                        else None)
    ordered = schedule.order([plain, module_group, named_1, on_sim, named_on_sim, named_2], [on_sim, named_on_sim])
    # A module's own group (marked here, after collection) keeps its place: moving tests/ml's module groups
    # ahead of tests/lambdas' mock_aws tests once wiped the session's moto state under them.
    assert [i.nodeid for i in ordered] == ["b.py::t", "c.py::t", "a.py::t", "m.py::t", "d.py::t", "s.py::t"]
    assert [m.args for m in named_1.marks] == [("chain",)]  # not also its module's group
    assert [m.args for m in module_group.marks] == [("m.py",)]


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
