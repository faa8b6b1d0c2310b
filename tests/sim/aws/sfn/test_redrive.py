"""RedriveExecution through boto3: a failed execution resumes from the state it failed in, after a fix.

The spec is the Step Functions API reference (RedriveExecution, DescribeExecution's redrive fields,
ExecutionRedrivenEventDetails) and the developer guide's "Redriving executions": same ARN and definition,
the history appended to, states that succeeded not rerun, ExecutionNotRedrivable with the reason
DescribeExecution gives when the execution cannot be redriven.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from botocore.exceptions import ClientError


def _reader(bucket: str) -> dict:
    """Prepare (Pass) → Read (S3 HeadObject: fails until the object exists) → Done (Pass, with the context)."""
    return {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"key": "config.json"}, "ResultPath": "$.prepared", "Next": "Read"},
        "Read": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
                 "Parameters": {"Bucket": bucket, "Key.$": "$.prepared.key"},
                 "ResultSelector": {"size.$": "$.ContentLength"},
                 "ResultPath": "$.read", "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"size.$": "$.read.size", "redrives.$": "$$.Execution.RedriveCount",
                                                "input.$": "$$.Execution.Input"}, "End": True}}}  # fmt: skip


@pytest.fixture
def failed(aws, sfn, create_machine, wait_for):
    """A failed execution of the reader whose object is missing: (bucket, execution ARN)."""
    bucket = f"redrive-{uuid.uuid4().hex[:8]}"
    aws.client("s3").create_bucket(Bucket=bucket)
    execution = aws.start_execution(create_machine(_reader(bucket)), {"order": 7})
    assert wait_for(sfn, execution)["status"] == "FAILED"
    return bucket, execution


def _types(sfn, execution: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]]


def test_a_failed_execution_is_redrivable_and_has_not_been_redriven(sfn, failed) -> None:
    described = sfn.describe_execution(executionArn=failed[1])
    assert (described["redriveCount"], described["redriveStatus"]) == (0, "REDRIVABLE")
    assert "redriveDate" not in described and "redriveStatusReason" not in described


def test_redrive_resumes_at_the_failed_state_with_its_input_and_skips_what_succeeded(aws, sfn, failed, wait_for):
    bucket, execution = failed
    aws.client("s3").put_object(Bucket=bucket, Key="config.json", Body=b"fixed")
    before = _types(sfn, execution)

    redriven = sfn.redrive_execution(executionArn=execution)
    described = wait_for(sfn, execution)

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"size": 5, "redrives": 1, "input": {"order": 7}}
    assert described["redriveCount"] == 1 and described["redriveDate"] == redriven["redriveDate"]
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    types = [e["type"] for e in events]
    assert types[: len(before)] == before, "the history is appended to, never rewritten"
    assert before[-1] == "ExecutionFailed" and types[len(before)] == "ExecutionRedriven"
    assert events[len(before)]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert events[len(before) + 1]["previousEventId"] == events[len(before)]["id"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered == ["Prepare", "Read", "Read", "Done"], "Prepare succeeded and is not rerun"
    again = [e for e in events[len(before):] if e.get("stateEnteredEventDetails", {}).get("name") == "Read"]
    assert json.loads(again[0]["stateEnteredEventDetails"]["input"])["prepared"] == {"key": "config.json"}
    assert types[-1] == "ExecutionSucceeded"


def test_a_redrive_that_fails_again_can_be_redriven_again_and_counts(aws, sfn, failed, wait_for) -> None:
    bucket, execution = failed
    sfn.redrive_execution(executionArn=execution)
    assert wait_for(sfn, execution)["status"] == "FAILED", "nothing was fixed"
    aws.client("s3").put_object(Bucket=bucket, Key="config.json", Body=b"second time")
    sfn.redrive_execution(executionArn=execution)
    described = wait_for(sfn, execution)
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 2)
    assert _types(sfn, execution).count("ExecutionRedriven") == 2


def test_a_succeeded_execution_is_not_redrivable_and_says_why(sfn, failed, aws, wait_for) -> None:
    bucket, execution = failed
    aws.client("s3").put_object(Bucket=bucket, Key="config.json", Body=b"ok")
    sfn.redrive_execution(executionArn=execution)
    wait_for(sfn, execution)
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=execution)
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ExecutionNotRedrivable", "Execution is SUCCEEDED and cannot be redriven")


def test_a_running_execution_is_not_redrivable(aws, sfn, create_machine) -> None:
    machine = create_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution = aws.start_execution(machine, {})
    described = sfn.describe_execution(executionArn=execution)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven")
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=execution)
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    sfn.stop_execution(executionArn=execution)


def test_an_aborted_execution_is_redriven_from_the_state_it_was_stopped_in(aws, sfn, create_machine, wait_for):
    machine = create_machine({"StartAt": "First", "States": {
        "First": {"Type": "Pass", "Next": "Hold"},
        "Hold": {"Type": "Wait", "Seconds": 5, "Next": "Last"},
        "Last": {"Type": "Pass", "End": True}}})  # fmt: skip
    execution = aws.start_execution(machine, {"n": 1})
    sfn.stop_execution(executionArn=execution, error="Operator", cause="stopped for the test")
    assert wait_for(sfn, execution)["status"] == "ABORTED"
    assert sfn.describe_execution(executionArn=execution)["redriveStatus"] == "REDRIVABLE"

    sfn.redrive_execution(executionArn=execution)
    described = wait_for(sfn, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"n": 1}
    entered = [e["stateEnteredEventDetails"]["name"] for e in
               sfn.get_execution_history(executionArn=execution)["events"] if "stateEnteredEventDetails" in e]
    assert entered.count("First") == 1 and entered[-2:] == ["Hold", "Last"]


def test_redriving_an_unknown_execution_is_execution_does_not_exist(sfn, failed) -> None:
    unknown = failed[1].rsplit(":", 1)[0] + ":no-such-execution"
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=unknown)
    assert refused.value.response["Error"]["Code"] == "ExecutionDoesNotExist"


def test_list_executions_shows_the_redrive_and_filters_on_it(aws, sfn, create_machine, wait_for) -> None:
    bucket = f"redrive-{uuid.uuid4().hex[:8]}"
    aws.client("s3").create_bucket(Bucket=bucket)
    machine = create_machine(_reader(bucket))
    first, second = (aws.start_execution(machine, {"n": n}) for n in (1, 2))
    for execution in (first, second):
        wait_for(sfn, execution)
    aws.client("s3").put_object(Bucket=bucket, Key="config.json", Body=b"ok")
    sfn.redrive_execution(executionArn=first)
    wait_for(sfn, first)

    items = {e["executionArn"]: e for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    assert items[first]["redriveCount"] == 1 and "redriveDate" in items[first]
    assert "redriveCount" not in items[second], "an execution never redriven lists as before"
    redriven = sfn.list_executions(stateMachineArn=machine, redriveFilter="REDRIVEN")["executions"]
    not_redriven = sfn.list_executions(stateMachineArn=machine, redriveFilter="NOT_REDRIVEN")["executions"]
    assert [e["executionArn"] for e in redriven] == [first]
    assert [e["executionArn"] for e in not_redriven] == [second]


def test_a_timed_out_execution_is_redriven_and_its_first_attempt_records_nothing_more(aws, sfn, create_machine,
                                                                                      wait_for) -> None:
    machine = create_machine({"TimeoutSeconds": 1, "StartAt": "First", "States": {
        "First": {"Type": "Pass", "Next": "Hold"},
        "Hold": {"Type": "Wait", "Seconds": 2, "Next": "Last"},
        "Last": {"Type": "Pass", "End": True}}})  # fmt: skip
    execution = aws.start_execution(machine, {"n": 2})
    timed_out = wait_for(sfn, execution)
    assert timed_out["status"] == "TIMED_OUT" and "stopDate" in timed_out
    assert timed_out["redriveStatus"] == "REDRIVABLE"

    sfn.redrive_execution(executionArn=execution)
    assert wait_for(sfn, execution)["status"] == "SUCCEEDED"
    threading.Event().wait(2.5)  # the first attempt's Wait ends meanwhile: it must not write into the history
    types = _types(sfn, execution)
    assert types.count("ExecutionSucceeded") == 1 and types[-1] == "ExecutionSucceeded"
    assert types.index("ExecutionTimedOut") < types.index("ExecutionRedriven")
    assert types.count("WaitStateExited") == 1, types


def test_an_execution_stopped_before_its_first_state_is_redriven_from_its_start_with_its_input() -> None:
    """StopExecution can land before the first state is entered (right after StartExecution): nothing
    succeeded, so the redrive starts at StartAt with the execution's input."""
    from sim.aws.moto_seams.sfn_redrive import failure_point

    events = [{"type": "ExecutionStarted", "executionStartedEventDetails": {"input": '{"n": 1}'}},
              {"type": "ExecutionAborted", "executionAbortedEventDetails": {"error": "Operator"}}]
    assert failure_point(events, "First") == ("First", {"n": 1})
    entered = [*events[:1], {"type": "PassStateEntered", "stateEnteredEventDetails": {"name": "First", "input": "{}"}}]
    assert failure_point(entered, "First") == ("First", {})
