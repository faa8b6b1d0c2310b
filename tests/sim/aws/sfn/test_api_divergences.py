"""Places where moto's Step Functions API parted from AWS (sim/aws/moto_seams/sfn_api.py): each test
names the AWS behaviour and fails if the seam stops working."""

from __future__ import annotations

import datetime
import json
import re

from sim.aws.moto_seams.sfn_api import aws_timestamp

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z$")


def test_describe_execution_returns_a_string_result_as_json_text(run_machine):
    run = run_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "high", "End": True}}})
    assert run.description["output"] == '"high"'


def test_sdk_integration_timestamps_are_iso_strings_and_describe_execution_does_not_fail(aws, run_machine):
    aws.client("s3").create_bucket(Bucket="sfn-timestamps")
    run = run_machine({"StartAt": "L", "States": {"L": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": True}}})
    assert run.status == "SUCCEEDED"
    created = [b["CreationDate"] for b in run.output["Buckets"] if b["Name"] == "sfn-timestamps"]
    assert len(created) == 1 and ISO_Z.match(created[0]), created


def test_a_choice_sees_an_sdk_integrations_timestamp_as_a_timestamp_string(aws, run_machine):
    aws.client("s3").create_bucket(Bucket="sfn-choice-timestamps")
    run = run_machine({"StartAt": "L", "States": {
        "L": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.Buckets[0].CreationDate", "IsTimestamp": True,
                                             "Next": "Timestamp"}], "Default": "Other"},
        "Timestamp": {"Type": "Pass", "Result": "timestamp", "End": True},
        "Other": {"Type": "Pass", "Result": "other", "End": True}}})
    assert run.output == "timestamp", run.description


def test_aws_timestamp_is_javas_instant_format():
    utc = datetime.UTC
    assert aws_timestamp(datetime.datetime(2013, 8, 23, 1, 2, 15, 422000, tzinfo=utc)) == "2013-08-23T01:02:15.422Z"
    assert aws_timestamp(datetime.datetime(2013, 8, 23, 1, 2, 15, tzinfo=utc)) == "2013-08-23T01:02:15Z"
    two_hours_east = datetime.timezone(datetime.timedelta(hours=2))
    assert aws_timestamp(datetime.datetime(2013, 8, 23, 3, 0, 0, 5, tzinfo=two_hours_east)) == "2013-08-23T01:00:00.000005Z"


def test_sdk_integration_error_name_carries_the_service_prefix_as_aws_cases_it(aws, run_machine):
    aws.client("s3").create_bucket(Bucket="sfn-errors")
    run = run_machine({"StartAt": "G", "States": {"G": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
        "Parameters": {"Bucket": "sfn-errors", "Key": "missing"}, "End": True}}})
    assert run.description["error"] == "S3.NoSuchKeyException"
    assert run.description["cause"].startswith("The specified key does not exist. (Service: S3, Status Code: 404")


def test_send_task_failure_cause_reaches_the_task_failure_and_the_catch(aws, sfn, create_machine, wait_for):
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="sfn-callbacks")["QueueUrl"]
    machine = create_machine({"StartAt": "Wait", "States": {
        "Wait": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                 "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
                 "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.failure", "Next": "Handled"}], "End": True},
        "Handled": {"Type": "Pass", "End": True}}})
    execution = aws.start_execution(machine, {"order": 7})
    messages: list = []
    for _ in range(100):
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            break
    token = json.loads(messages[0]["Body"])["token"]
    sfn.send_task_failure(taskToken=token, error="Rejected", cause="the reviewer said no")
    description = wait_for(sfn, execution)
    assert json.loads(description["output"]) == {"order": 7, "failure": {"Error": "Rejected",
                                                                         "Cause": "the reviewer said no"}}
    events = sfn.get_execution_history(executionArn=execution)["events"]
    [failed] = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert (failed["error"], failed["cause"]) == ("Rejected", "the reviewer said no")


def test_stop_execution_records_its_error_and_cause_and_answers_its_stop_date(aws, sfn, create_machine, wait_for):
    """StopExecution's `error` and `cause` are the ExecutionAborted event's details; without them the details are
    `{}` (LocalStack's test_sfn_api.snapshot.json, test_stop_execution, recorded against AWS); `stopDate` is a
    required member of StopExecutionOutput."""
    machine = create_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    aborted: list[dict] = []
    for reason in ({"error": "Operator", "cause": "stopped by hand"}, {}):
        execution = aws.start_execution(machine, {})
        stopped = sfn.stop_execution(executionArn=execution, **reason)
        described = wait_for(sfn, execution)
        assert described["status"] == "ABORTED"
        assert described["startDate"] <= stopped["stopDate"] <= described["stopDate"]
        # AWS documents no answer for stopping an ended execution; whatever it is, the recorded end stays.
        sfn.stop_execution(executionArn=execution, error="Late", cause="after the end")
        last = sfn.get_execution_history(executionArn=execution)["events"][-1]
        assert last["type"] == "ExecutionAborted"
        aborted.append(last["executionAbortedEventDetails"])
    assert aborted == [{"error": "Operator", "cause": "stopped by hand"}, {}]


def test_describe_execution_reports_input_details_and_redrive_status(aws, sfn, create_machine, wait_for):
    # LocalStack's test_sfn_api.snapshot.json, test_describe_execution (recorded against AWS)
    machine = create_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    described = wait_for(sfn, aws.start_execution(machine, {}))
    assert described["inputDetails"] == {"included": True}
    assert (described["redriveCount"], described["redriveStatus"], described["redriveStatusReason"]) == (
        0, "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    failing = create_machine({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    failed = wait_for(sfn, aws.start_execution(failing, {}))
    assert failed["redriveStatus"] == "REDRIVABLE" and "redriveStatusReason" not in failed


def test_describe_state_machine_for_execution_shows_what_the_execution_ran(aws, sfn, create_machine, wait_for):
    # test_sfn_api.snapshot.json, test_describe_state_machine_for_execution: updateDate, no creationDate/status/type
    first = json.dumps({"Comment": "first", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    machine = create_machine(first)
    execution = aws.start_execution(machine, {})
    wait_for(sfn, execution)
    revision = sfn.update_state_machine(stateMachineArn=machine, definition=first.replace("first", "second"))
    described = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert json.loads(described["definition"])["Comment"] == "first"
    assert described["stateMachineArn"] == machine and "updateDate" in described
    assert not {"creationDate", "status", "type", "revisionId"} & set(described)
    later = aws.start_execution(machine, {})
    wait_for(sfn, later)
    assert sfn.describe_state_machine_for_execution(executionArn=later)["revisionId"] == revision["revisionId"]


def test_describe_lists_the_variables_each_state_reads(aws, sfn, create_machine, wait_for):
    # test_sfn_api_variable_references.snapshot.json: BASE_REFERENCE_IN_CHOICE / _WAIT / _FAIL; JSONata excluded
    machine = create_machine({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$waitTime", "Next": "C", "Assign": {"waitTime": 0}},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$answer", "StringEqualsPath": "$guess", "Next": "E"}],
              "Default": "J"},
        "J": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $answer %}", "End": True},
        "E": {"Type": "Fail", "ErrorPath": "$errorVar", "CausePath": "$causeVar"}}})
    expected = {"W": ["waitTime"], "C": ["answer", "guess"], "E": ["causeVar", "errorVar"]}
    assert sfn.describe_state_machine(stateMachineArn=machine)["variableReferences"] == expected
    execution = aws.start_execution(machine, {})
    wait_for(sfn, execution)
    assert sfn.describe_state_machine_for_execution(executionArn=execution)["variableReferences"] == expected
    plain = create_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert "variableReferences" not in sfn.describe_state_machine(stateMachineArn=plain)
