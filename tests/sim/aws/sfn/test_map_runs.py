"""Map Runs of a Distributed Map through boto3: ListMapRuns, DescribeMapRun, UpdateMapRun, failure thresholds.

The spec is the API reference (DescribeMapRun's itemCounts/executionCounts, UpdateMapRun's bounds,
MapRunStartedEventDetails / MapRunFailedEventDetails) and the developer guide's "Setting failure
thresholds for Distributed Map states"; the threshold's error and cause are those LocalStack recorded
against AWS (States.ExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded").
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

EXCEEDED = "The specified tolerated failure threshold was exceeded"


def _distributed(*, wait: int = 0, **tolerance: Any) -> dict:
    """A Distributed Map whose child fails for an item above 2 (optionally waiting first)."""
    states: dict[str, Any] = {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "TooBig"}],
                  "Default": "Fine"},
        "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "above 2"},
        "Fine": {"Type": "Pass", "End": True}}  # fmt: skip
    start = "Check"
    if wait:
        states["Hold"], start = {"Type": "Wait", "Seconds": wait, "Next": "Check"}, "Hold"
    return {"StartAt": "Files", "States": {"Files": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "Label": "files", **tolerance,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": start, "States": states}, "End": True}}}  # fmt: skip


def _map_run_arn(run) -> str:
    [started] = run.details("MapRunStarted")
    return started["mapRunArn"]


def test_a_map_run_is_listed_under_its_execution_and_counts_its_items(sfn, run_machine) -> None:
    run = run_machine(_distributed(ToleratedFailureCount=1), {"items": [1, 2, 3]})
    assert run.status == "SUCCEEDED"
    arn = _map_run_arn(run)
    assert ":mapRun:" in arn and "/files:" in arn, "the Label names the map run"

    [listed] = sfn.list_map_runs(executionArn=run.description["executionArn"])["mapRuns"]
    assert listed["mapRunArn"] == arn and listed["executionArn"] == run.description["executionArn"]
    assert listed["stateMachineArn"] == run.description["stateMachineArn"] + "/files"
    described = sfn.describe_map_run(mapRunArn=arn)
    assert (described["status"], described["maxConcurrency"], described["toleratedFailureCount"]) == (
        "SUCCEEDED", 2, 1)
    assert described["stopDate"] >= described["startDate"]
    for counts in (described["itemCounts"], described["executionCounts"]):
        assert {k: counts[k] for k in ("total", "succeeded", "failed", "running", "pending")} == {
            "total": 3, "succeeded": 2, "failed": 1, "running": 0, "pending": 0}, counts


def test_list_executions_of_a_map_run_lists_its_child_executions_with_their_map_run_and_item_count(
        sfn, run_machine) -> None:
    """API reference, ListExecutions: "If the mapRunArn field is specified, a list of all of the child
    workflow executions started by a Map Run is returned", each with `mapRunArn` and `itemCount`."""
    run = run_machine(_distributed(ToleratedFailureCount=1), {"items": [1, 2, 3]})
    arn = _map_run_arn(run)
    children = sfn.list_executions(mapRunArn=arn)["executions"]
    machine = run.description["stateMachineArn"] + "/files"
    assert sorted(c["status"] for c in children) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert all(c["mapRunArn"] == arn and c["itemCount"] == 1 and c["stateMachineArn"] == machine for c in children)
    assert all(c["executionArn"] == machine.replace(":stateMachine:", ":execution:") + ":" + c["name"]
               and c["stopDate"] >= c["startDate"] for c in children)
    assert len({c["executionArn"] for c in children}) == 3
    failed = sfn.list_executions(mapRunArn=arn, statusFilter="FAILED")["executions"]
    assert [c["status"] for c in failed] == ["FAILED"]


def test_a_failed_item_beyond_the_tolerance_fails_the_map_run_and_the_state(sfn, run_machine) -> None:
    run = run_machine(_distributed(), {"items": [1, 3]})

    assert run.status == "FAILED"
    assert (run.description["error"], run.description["cause"]) == ("States.ExceedToleratedFailureThreshold", EXCEEDED)
    assert run.details("MapRunFailed") == [{"error": "States.ExceedToleratedFailureThreshold", "cause": EXCEEDED}]
    assert run.types()[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    described = sfn.describe_map_run(mapRunArn=_map_run_arn(run))
    assert described["status"] == "FAILED" and described["itemCounts"]["failed"] == 1


@pytest.mark.parametrize(("items", "status"), [([1, 2, 3], "SUCCEEDED"), ([1, 3, 4], "FAILED")])
def test_a_tolerated_failure_percentage_is_exceeded_only_above_it(run_machine, items, status) -> None:
    run = run_machine(_distributed(ToleratedFailurePercentage=50.0), {"items": items})
    assert run.status == status, "1 of 3 failed is 33 % (tolerated), 2 of 3 is 67 % (not)"


def test_update_map_run_sets_what_describe_map_run_reports(sfn, run_machine) -> None:
    arn = _map_run_arn(run_machine(_distributed(ToleratedFailureCount=1), {"items": [1]}))
    sfn.update_map_run(mapRunArn=arn, maxConcurrency=7, toleratedFailureCount=4, toleratedFailurePercentage=12.5)
    described = sfn.describe_map_run(mapRunArn=arn)
    assert (described["maxConcurrency"], described["toleratedFailureCount"],
            described["toleratedFailurePercentage"]) == (7, 4, 12.5)  # fmt: skip


def test_raising_the_tolerance_of_a_running_map_run_lets_it_succeed(aws, sfn, create_machine, wait_for) -> None:
    """The threshold is judged when the map run ends, with the tolerance UpdateMapRun last set."""
    execution = aws.start_execution(create_machine(_distributed(wait=3)), {"items": [1, 3]})
    arn = None
    for _ in range(200):
        runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
        if runs:
            arn = runs[0]["mapRunArn"]
            break
        threading.Event().wait(0.05)
    assert arn, "the map run started"
    sfn.update_map_run(mapRunArn=arn, toleratedFailureCount=1)
    assert wait_for(sfn, execution, 60)["status"] == "SUCCEEDED"


def test_update_map_run_refuses_values_out_of_the_api_bounds(sfn, run_machine) -> None:
    arn = _map_run_arn(run_machine(_distributed(ToleratedFailureCount=1), {"items": [1]}))
    with pytest.raises(ClientError) as refused:
        sfn.update_map_run(mapRunArn=arn, toleratedFailurePercentage=150.0)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "toleratedFailurePercentage" in refused.value.response["Error"]["Message"]


def test_an_unknown_map_run_is_resource_not_found(sfn, run_machine) -> None:
    arn = _map_run_arn(run_machine(_distributed(ToleratedFailureCount=1), {"items": [1]})) + "0"
    for call in (lambda: sfn.describe_map_run(mapRunArn=arn), lambda: sfn.update_map_run(mapRunArn=arn, maxConcurrency=1)):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "ResourceNotFound"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_map_run_arn_in_the_history_is_the_one_listed(sfn, run_machine) -> None:
    run = run_machine(_distributed(ToleratedFailureCount=1), {"items": [2, 1]})
    assert json.loads(run.description["output"]) == [2, 1]
    listed = [m["mapRunArn"] for m in sfn.list_map_runs(executionArn=run.description["executionArn"])["mapRuns"]]
    assert listed == [_map_run_arn(run)]
