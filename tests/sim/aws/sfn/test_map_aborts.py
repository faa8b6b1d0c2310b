"""A Map iteration that fails cuts its running siblings, and the history records what it cut as AWS does
(sim/aws/moto_seams/sfn_map_aborts.py). Recorded on AWS: LocalStack's
tests/aws/services/stepfunctions/v2/timeouts/test_timeouts.snapshot.json (test_service_lambda_map_timeout:
`MapIterationFailed(0), TaskStateAborted, MapIterationAborted(1), TaskStateAborted, ..., MapStateFailed`,
every one chained to the failing event); floci's StepFunctionsMapIterationFailureIntegrationTest (measured
on AWS: `MapIterationAborted(0), WaitStateAborted, MapIterationFailed(1), MapStateFailed`)."""

from __future__ import annotations

from typing import Any


def _map(states: dict[str, Any], start: str, **map_fields: Any) -> dict[str, Any]:
    return {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemsPath": "$.items", **map_fields,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": start, "States": states}}}}


ROUTE = {"Type": "Choice", "Default": "Long",
         "Choices": [{"Variable": "$.kind", "StringEquals": "fail", "Next": "Pause"}]}
PAUSE = {"Type": "Wait", "Seconds": 1, "Next": "Boom"}
BOOM = {"Type": "Fail", "Error": "Boom", "Cause": "sibling failed"}


def _after(run: Any, event_type: str) -> list[dict[str, Any]]:
    index = run.types().index(event_type)
    return run.events[index:]


def test_failing_iteration_records_the_wait_it_cut_before_its_own_failure(run_machine):
    run = run_machine(_map({"Route": ROUTE, "Long": {"Type": "Wait", "Seconds": 15, "End": True},
                            "Pause": PAUSE, "Boom": BOOM}, "Route"),
                      {"items": [{"kind": "long"}, {"kind": "fail"}]})
    assert (run.status, run.description.get("error")) == ("FAILED", "Boom")
    tail = _after(run, "FailStateEntered")
    assert [e["type"] for e in tail] == ["FailStateEntered", "MapIterationAborted", "WaitStateAborted",
                                         "MapIterationFailed", "MapStateFailed", "ExecutionFailed"]
    assert all(e["previousEventId"] == tail[0]["id"] for e in tail[1:5])
    assert tail[1]["mapIterationAbortedEventDetails"] == {"name": "M", "index": 0}
    assert tail[3]["mapIterationFailedEventDetails"] == {"name": "M", "index": 1}


SLEEPS = """
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise Exception("iteration failed")
    return event
"""


def test_failing_lambda_iteration_aborts_the_running_lambda_tasks_in_index_order(run_machine, make_function):
    function = make_function(SLEEPS, timeout=10)
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"FunctionName": function, "Payload.$": "$"}}
    run = run_machine(_map({"Call": task}, "Call"),
                      {"items": [{"fail": True}, {"sleep": 4}, {"sleep": 4}]})
    assert run.status == "FAILED"
    tail = _after(run, "TaskFailed")
    types = [e["type"] for e in tail]
    assert types == ["TaskFailed", "MapIterationFailed", "TaskStateAborted", "MapIterationAborted",
                     "TaskStateAborted", "MapIterationAborted", "TaskStateAborted", "MapStateFailed",
                     "ExecutionFailed"]
    assert [e.get("mapIterationAbortedEventDetails", {}).get("index") for e in tail
            if e["type"] == "MapIterationAborted"] == [1, 2]
    assert all(e["previousEventId"] == tail[0]["id"] for e in tail[1:8])
    # Nothing of the cut iterations comes after the execution's end.
    assert run.types()[-1] == "ExecutionFailed"


def test_iterations_not_yet_started_and_finished_ones_are_not_aborted(run_machine):
    states = {"Route": ROUTE, "Long": {"Type": "Pass", "End": True}, "Pause": PAUSE, "Boom": BOOM}
    run = run_machine(_map(states, "Route", MaxConcurrency=1),
                      {"items": [{"kind": "long"}, {"kind": "fail"}, {"kind": "long"}]})
    assert run.status == "FAILED"
    assert "MapIterationAborted" not in run.types()
    assert run.types().count("MapIterationStarted") == 2
    assert run.types()[-3:] == ["MapIterationFailed", "MapStateFailed", "ExecutionFailed"]


def test_a_caught_map_failure_records_nothing_of_a_cut_iteration_that_finishes_later(run_machine, make_function):
    function = make_function(SLEEPS, timeout=10)
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"FunctionName": function, "Payload.$": "$"}}
    definition = _map({"Call": task}, "Call", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Later"}])
    definition["States"]["M"].pop("End")
    definition["States"]["M"]["Next"] = "Later"
    # The execution goes on past the moment the cut Lambda returns.
    definition["States"]["Later"] = {"Type": "Wait", "Seconds": 3, "End": True}
    run = run_machine(definition, {"items": [{"fail": True}, {"sleep": 1}]})
    assert run.status == "SUCCEEDED"
    types = run.types()
    cut = types.index("MapIterationAborted")
    assert types[cut:cut + 3] == ["MapIterationAborted", "TaskStateAborted", "MapStateFailed"]
    after = types[cut + 2:]
    assert not [t for t in after if t.startswith(("Task", "Lambda", "MapIteration"))], after
    assert after[-3:] == ["WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]


def test_a_failure_inside_a_nested_map_cuts_the_inner_siblings_then_the_outer_ones(run_machine):
    inner = {"Type": "Map", "ItemsPath": "$.inner", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Route",
        "States": {"Route": ROUTE, "Long": {"Type": "Wait", "Seconds": 15, "End": True}, "Pause": PAUSE,
                   "Boom": BOOM}}}
    outer_states = {"Pick": {"Type": "Choice", "Default": "Idle",
                             "Choices": [{"Variable": "$.inner", "IsPresent": True, "Next": "Inner"}]},
                    "Inner": inner, "Idle": {"Type": "Wait", "Seconds": 15, "End": True}}
    run = run_machine(_map(outer_states, "Pick"),
                      {"items": [{"inner": [{"kind": "long"}, {"kind": "fail"}]}, {"other": 1}]})
    assert (run.status, run.description.get("error")) == ("FAILED", "Boom")
    tail = [(e["type"], (e.get("mapIterationAbortedEventDetails") or e.get("mapIterationFailedEventDetails")
                         or {}).get("name")) for e in _after(run, "FailStateEntered")]
    assert tail == [("FailStateEntered", None),
                    ("MapIterationAborted", "Inner"), ("WaitStateAborted", None),
                    ("MapIterationFailed", "Inner"), ("MapStateFailed", None),
                    ("MapIterationFailed", "M"), ("MapIterationAborted", "M"), ("WaitStateAborted", None),
                    ("MapStateFailed", None), ("ExecutionFailed", None)]
