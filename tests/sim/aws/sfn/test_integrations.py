"""Nested executions and activities (sim/aws/moto_seams/sfn_integrations.py), and one ExecutionFailed
per failed execution whatever fails it."""

from __future__ import annotations

import json
import threading

import pytest

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"


@pytest.fixture(scope="module")
def children(sfn) -> dict[str, str]:
    def create(name: str, states: dict) -> str:
        return sfn.create_state_machine(name=name, roleArn=ROLE, definition=json.dumps(
            {"StartAt": next(iter(states)), "States": states}))["stateMachineArn"]
    return {
        "ok": create("child-ok", {"A": {"Type": "Pass", "Parameters": {"got.$": "$.v"}, "End": True}}),
        "fails": create("child-fails", {"F": {"Type": "Fail", "Error": "ChildErr", "Cause": "bad"}}),
    }


def _parent(resource: str, child: str) -> dict:
    return {"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": f"arn:aws:states:::states:{resource}",
                                             "Parameters": {"StateMachineArn": child, "Input": {"v": 7}}, "End": True}}}


def test_start_execution_returns_the_childs_arn_and_start_date(run_machine, children):
    run = run_machine(_parent("startExecution", children["ok"]))
    assert run.status == "SUCCEEDED"
    # AWS's optimised integration adds the Java SDK's response metadata, keys in alphabetical order.
    assert list(run.output) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert ":execution:child-ok:" in run.output["ExecutionArn"] and not run.output["ExecutionArn"].endswith(":None")


def test_start_execution_sync_waits_and_returns_the_childs_output_as_text(run_machine, children):
    run = run_machine(_parent("startExecution.sync", children["ok"]))
    assert (run.status, run.output["Status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert json.loads(run.output["Output"]) == {"got": 7}
    assert isinstance(run.output["StartDate"], int)


def test_start_execution_sync_2_of_an_express_child_returns_its_output_under_its_express_arn(sfn, run_machine):
    child = sfn.create_state_machine(name="child-express", roleArn=ROLE, type="EXPRESS", definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"got.$": "$.v"}, "End": True}}}
    ))["stateMachineArn"]
    run = run_machine(_parent("startExecution.sync:2", child))
    assert (run.status, run.output["Status"], run.output["Output"]) == ("SUCCEEDED", "SUCCEEDED", {"got": 7})
    assert ":express:child-express:" in run.output["ExecutionArn"]


def test_start_execution_sync_2_returns_the_childs_output_as_json(run_machine, children):
    run = run_machine(_parent("startExecution.sync:2", children["ok"]))
    assert (run.output["Input"], run.output["Output"]) == ({"v": 7}, {"got": 7})


def test_failed_child_fails_the_parent_task_with_states_task_failed(run_machine, children):
    run = run_machine(_parent("startExecution.sync:2", children["fails"]))
    assert run.description["error"] == "States.TaskFailed"
    cause = json.loads(run.description["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "ChildErr", "bad")


def test_activity_worker_gets_the_task_and_its_success_completes_the_state(aws, sfn, run_machine):
    activity = sfn.create_activity(name="stepbricks-worker")["activityArn"]
    got: dict = {}

    def worker() -> None:
        task = aws.client("stepfunctions").get_activity_task(activityArn=activity, workerName="worker-1")
        got.update(task)
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"processed": json.loads(task["input"])}))

    thread = threading.Thread(target=worker)
    thread.start()
    run = run_machine({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}},
                      {"job": 1})
    thread.join(10)
    assert json.loads(got["input"]) == {"job": 1}
    assert (run.status, run.output) == ("SUCCEEDED", {"processed": {"job": 1}})
    assert run.types()[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    assert run.details("ActivityStarted") == [{"workerName": "worker-1"}]


@pytest.mark.parametrize("states", [
    {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}},
    {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}]}},
    {"M": {"Type": "Map", "End": True, "ItemsPath": "$.items", "ItemProcessor": {
        "StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}}},
    {"T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
           "Parameters": {"Bucket": "no-such-bucket-here", "Key": "k"}, "End": True}},
], ids=["fail-state", "parallel-branch", "map-iteration", "sdk-task"])
def test_a_failed_execution_records_execution_failed_exactly_once(run_machine, states):
    run = run_machine({"StartAt": next(iter(states)), "States": states}, {"items": [1, 2]})
    assert run.status == "FAILED"
    assert run.types().count("ExecutionFailed") == 1 and run.types()[-1] == "ExecutionFailed"


def test_no_event_follows_the_terminal_event_when_map_iterations_race(aws, sfn, create_machine, wait_for):
    """Several iterations failing at once used to leave MapIterationFailed/Succeeded after ExecutionFailed
    in about one run in four (sim/aws/moto_seams/sfn_history.py); eight runs make a regression visible."""
    machine = create_machine({"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemsPath": "$.items", "ItemProcessor": {
            "StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}}}})
    executions = [aws.start_execution(machine, {"items": [1, 2, 3, 4]}) for _ in range(8)]
    pause = threading.Event()
    for execution in executions:
        wait_for(sfn, execution)
        pause.wait(0.1)  # give a straggling iteration the time to (wrongly) write after the end
        types = [e["type"] for e in sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]]
        terminal = [t for t in types if t.startswith("Execution") and t != "ExecutionStarted"]
        assert (terminal, types[-1]) == (["ExecutionFailed"], "ExecutionFailed"), types


def test_activity_worker_can_be_a_state_machine_calling_get_activity_task_via_aws_sdk(sfn, run_machine, create_machine):
    # AWS's own activity tests use a worker machine: getActivityTask's result is {"TaskToken", "Input"}.
    activity = sfn.create_activity(name="stepbricks-sdk-worker")["activityArn"]
    worker = create_machine({"StartAt": "Get", "States": {
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:getActivityTask",
                "Parameters": {"ActivityArn.$": "$.ActivityArn", "WorkerName": "sdk-worker"}, "Next": "Done"},
        "Done": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                 "Parameters": {"Output.$": "$.Input", "TaskToken.$": "$.TaskToken"}, "End": True}}})
    sfn.start_execution(stateMachineArn=worker, input=json.dumps({"ActivityArn": activity}))
    run = run_machine({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}},
                      {"Value1": "HelloWorld"})
    assert (run.status, run.output) == ("SUCCEEDED", {"Value1": "HelloWorld"})
    assert run.types()[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
    assert run.details("ActivityStarted") == [{"workerName": "sdk-worker"}]


def test_activity_task_on_a_deleted_activity_fails_the_execution_naming_it(sfn, run_machine):
    activity = sfn.create_activity(name="stepbricks-deleted")["activityArn"]
    sfn.delete_activity(activityArn=activity)
    run = run_machine({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}})
    assert run.types() == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert (run.description["error"], run.description["cause"]) == (
        "States.Runtime", "An error occurred while executing the state 'Work' (entered at the event id #2). "
                          f"The activity {activity} does not exist.")


def test_start_execution_sync_result_lists_describe_execution_fields_alphabetically_with_input_details(run_machine, children):
    run = run_machine(_parent("startExecution.sync", children["ok"]))
    # Since AWS added redrive (2023) the result also carries RedriveCount/Status/StatusReason, in this order: the
    # developer guide's Distributed Map ResultWriter example ("Transformation NONE") shows such a child result.
    assert list(run.output) == ["ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails",
                                "RedriveCount", "RedriveStatus", "RedriveStatusReason", "StartDate",
                                "StateMachineArn", "Status", "StopDate"]
    assert (run.output["RedriveStatus"], run.output["RedriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    assert run.output["InputDetails"] == {"Included": True}
    submitted = run.details("TaskSubmitted")[0]
    assert list(json.loads(submitted["output"])) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
