"""A MockConfigFile edited while the simulator runs (sim/faults/mock_config_watch.py): a good edit replaces
the configuration, a malformed one is reported as file:line: reason and the last good one stays."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sim.faults import FaultPlan, MockConfigError
from sim.faults.mock_config import mock_config_from_text
from sim.faults.mock_config_watch import MockConfigWatcher


def config(case: str = "HappyPath", payload: object = "first") -> dict:
    return {"StateMachines": {"orders": {"TestCases": {case: {"Call": "CallOk"}}}},
            "MockedResponses": {"CallOk": {"0": {"Return": {"Payload": payload}}}}}


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)


def effect(plan: FaultPlan, case: str) -> object:
    found = plan.take("state", "orders", "Call", scope=f"orders#{case}", instance=f"x-{len(plan.applied)}")
    return None if found is None else found["result"]["Payload"]


# -- where a malformed file is wrong ------------------------------------------------------------------------

def test_a_syntax_error_is_reported_at_its_line():
    text = '{\n  "StateMachines": {},\n  "MockedResponses": {\n    "A": {"0": {"Return": 1}},\n  }\n}\n'
    with pytest.raises(MockConfigError) as refused:
        mock_config_from_text(text, "mocks.json")
    assert (refused.value.file, refused.value.line) == ("mocks.json", 5)
    assert str(refused.value).startswith("mocks.json:5: not valid JSON: ")


def test_a_test_case_naming_an_undefined_response_is_reported_at_that_state():
    text = json.dumps({"StateMachines": {"orders": {"TestCases": {"HappyPath": {"Call": "CallOk"},
                                                                  "Broken": {"Call": "NoSuchResponse"}}}},
                       "MockedResponses": {"CallOk": {"0": {"Return": 1}}}}, indent=2)
    with pytest.raises(MockConfigError) as refused:
        mock_config_from_text(text, "mocks.json")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == '"Call": "NoSuchResponse"')
    assert str(refused.value) == (f"mocks.json:{line}: StateMachines.orders.TestCases.Broken.Call names the mocked "
                                  "response 'NoSuchResponse', which MockedResponses does not define")


def test_a_response_of_the_wrong_shape_is_reported_at_its_invocation_key():
    text = json.dumps({"StateMachines": {"orders": {"TestCases": {"HappyPath": {"Call": "CallOk"}}}},
                       "MockedResponses": {"CallOk": {"0": {"Return": 1}, "1": {"Raise": {"Error": "E"}}}}}, indent=2)
    with pytest.raises(MockConfigError) as refused:
        mock_config_from_text(text, "mocks.json")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip().startswith('"1"'))
    assert refused.value.line == line
    assert refused.value.reason == ("MockedResponses.CallOk.1: each mocked invocation is {'Return': ...} or "
                                    "{'Throw': {'Error', 'Cause'}}")


def test_a_missing_section_is_reported_at_the_object_that_lacks_it():
    with pytest.raises(MockConfigError) as refused:
        mock_config_from_text('{\n  "StateMachines": {\n    "orders": {}\n  },\n  "MockedResponses": {}\n}', "m.json")
    assert str(refused.value) == "m.json:3: StateMachines.orders needs the object 'TestCases'"


# -- edits while it is watched -------------------------------------------------------------------------------

@pytest.fixture
def watched(tmp_path):
    path = tmp_path / "mocks.json"
    write(path, config())
    plan, reports = FaultPlan(), []
    return path, plan, reports, MockConfigWatcher(path, plan, report=reports.append)


def test_a_good_edit_replaces_the_configuration(watched):
    path, plan, reports, watcher = watched
    assert watcher.refresh() is False  # nothing changed
    write(path, config(case="RenamedPath", payload="second"))
    assert watcher.refresh() is True
    assert plan.scopes() == {"orders#RenamedPath"}
    assert effect(plan, "RenamedPath") == "second"
    assert effect(plan, "HappyPath") is None
    assert reports == [f"{path}: reloaded, 1 test case(s) in force"]


def test_a_malformed_edit_is_reported_once_and_the_last_good_configuration_stays(watched):
    path, plan, reports, watcher = watched
    write(path, '{\n  "StateMachines": {\n    "orders": {"TestCases": {"NewCase": {"Call": "CallOk"}}}\n')
    assert watcher.refresh() is False
    assert watcher.refresh() is False
    assert plan.scopes() == {"orders#HappyPath"} and effect(plan, "HappyPath") == "first"
    assert len(reports) == 1
    assert reports[0].startswith(f"{path}:4: not valid JSON: ")
    assert reports[0].endswith("(the last good configuration stays in force)")
    assert watcher.problem is not None and watcher.problem.line == 4
    write(path, config(case="NewCase"))
    assert watcher.refresh() is True and watcher.problem is None
    assert plan.scopes() == {"orders#NewCase"}


def test_a_same_size_edit_within_the_clocks_granularity_is_still_seen(watched):
    path, plan, _, watcher = watched
    before = os.stat(path)
    write(path, config(payload="other"))  # "other" and "first" have the same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    assert watcher.refresh() is True
    assert effect(plan, "HappyPath") == "other"


def test_faults_of_the_plan_that_are_not_the_files_survive_a_reload(watched):
    path, plan, _, watcher = watched
    plan.add("lambda", "validate", error={"type": "Lambda.ServiceException"})
    write(path, config(case="Other"))
    watcher.refresh()
    assert [f.target.kind for f in plan.faults] == ["lambda", "state"]
