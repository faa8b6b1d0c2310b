"""Runtime errors worded and recorded as AWS records them (sim/aws/moto_seams/sfn_errors.py; wordings from
executions recorded on AWS, LocalStack's tests/aws/services/stepfunctions/v2/scenarios/
test_base_scenarios.snapshot.json)."""

from __future__ import annotations

import pytest

PROCESSOR = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize("field", ["TimeoutSecondsPath", "HeartbeatSecondsPath"])
def test_seconds_path_that_selects_nothing_fails_the_execution_naming_the_state(run_machine, field):
    run = run_machine({"StartAt": "task", "States": {"task": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "Parameters": {},
        field: "$.NoSuchPath", "End": True}}})
    assert run.types() == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    expected = ("An error occurred while executing the state 'task' (entered at the event id #2). "
                "Invalid path '$.NoSuchPath' : No results for path: $['NoSuchPath']")
    assert (run.description["error"], run.description["cause"]) == ("States.Runtime", expected)
    assert run.details("ExecutionFailed") == [{"error": "States.Runtime", "cause": expected}]


@pytest.mark.parametrize(("items", "shown"), [(1, "1"), ("string", '"string"'), (True, "true"), (None, "null"),
                                              ({"foo": "bar"}, '{"foo":"bar"}')])
def test_map_over_a_value_that_is_not_an_array_names_the_value(run_machine, items, shown):
    run = run_machine({"StartAt": "MapIterateState", "States": {"MapIterateState": {
        "Type": "Map", "ItemsPath": "$.items", "ItemProcessor": PROCESSOR, "End": True}}}, {"items": items})
    assert run.types()[2:] == ["EvaluationFailed", "MapStateFailed", "ExecutionFailed"]
    assert (run.description["error"], run.description["cause"]) == (
        "States.QueryEvaluationError", "An error occurred while executing the state 'MapIterateState' "
                                       f"(entered at the event id #2). Map state input must be an array but was: {shown}")
