"""StartSyncExecution (sim/aws/moto_seams/sfn_sync.py) and execution logging to CloudWatch
Logs (sim/aws/moto_seams/sfn_logging.py), which moto does not provide."""

from __future__ import annotations

import itertools
import json
import re
import threading

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"
_groups = itertools.count(1)


@pytest.fixture(scope="module")
def sync_sfn(aws):
    """AWS serves these under the `sync-` host prefix, which cannot resolve on 127.0.0.1."""
    return aws.client("stepfunctions", inject_host_prefix=False)


def test_start_sync_execution_answers_with_the_express_result(sync_sfn):
    arn = sync_sfn.create_state_machine(name="express-sync", roleArn=ROLE, type="EXPRESS", definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                                          "End": True}}}))["stateMachineArn"]
    result = sync_sfn.start_sync_execution(stateMachineArn=arn, input='{"n": 21}')
    assert (result["status"], json.loads(result["output"])) == ("SUCCEEDED", {"doubled": 42})
    assert result["billingDetails"]["billedDurationInMilliseconds"] % 100 == 0


def test_start_sync_execution_reports_failure_with_error_and_cause(sync_sfn):
    arn = sync_sfn.create_state_machine(name="express-fail", roleArn=ROLE, type="EXPRESS", definition=json.dumps(
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}}))["stateMachineArn"]
    result = sync_sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert (result["status"], result["error"], result["cause"]) == ("FAILED", "Nope", "because")
    assert "output" not in result


EXPRESS_ARN = re.compile(r"arn:aws:states:us-east-1:123456789012:express:(?P<machine>[\w-]+):(?P<name>[\w-]+):"
                         r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_express_executions_have_express_arns_that_describe_refuses(sync_sfn):
    # Recorded on AWS: LocalStack v2/test_sfn_api_express.snapshot.json (test_start_sync_execution,
    # test_start_async_describe_history_execution).
    arn = sync_sfn.create_state_machine(name="express-arns", roleArn=ROLE, type="EXPRESS", definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"},
                                          "End": True}}}))["stateMachineArn"]
    synced = sync_sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    found = EXPRESS_ARN.fullmatch(synced["executionArn"])
    assert found and (found["machine"], found["name"]) == ("express-arns", synced["name"])
    assert json.loads(synced["output"]) == {"id": synced["executionArn"]}
    started = sync_sfn.start_execution(stateMachineArn=arn, name="given-name", input="{}")["executionArn"]
    found = EXPRESS_ARN.fullmatch(started)
    assert found and found["name"] == "given-name"
    for call in (sync_sfn.describe_execution, sync_sfn.stop_execution, sync_sfn.get_execution_history,
                 sync_sfn.redrive_execution):
        with pytest.raises(ClientError) as refused:
            call(executionArn=started)
        assert refused.value.response["Error"] == {
            "Code": "InvalidArn", "Message": "Invalid Arn: 'Resource type not valid in this context: express'"}


def test_start_sync_execution_refuses_a_standard_state_machine(sync_sfn):
    arn = sync_sfn.create_state_machine(name="standard-sync", roleArn=ROLE, definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    with pytest.raises(ClientError) as caught:
        sync_sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert caught.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def _logged_run(aws, run_machine, level: str, include_data: bool, definition: dict) -> list[dict]:
    logs = aws.client("logs")
    group = f"/aws/vendedlogs/states/sb-{next(_groups)}"
    logs.create_log_group(logGroupName=group)
    group_arn = next(g["arn"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"])
    run_machine(definition, {"secret": "input-data"}, loggingConfiguration={
        "level": level, "includeExecutionData": include_data,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}]})
    pause = threading.Event()
    for _ in range(40):  # delivery happens as events are recorded; allow the last one to land
        events = logs.filter_log_events(logGroupName=group)["events"]
        if (events and json.loads(events[-1]["message"])["type"].startswith("Execution") and len(events) > 1) \
                or (events and level == "FATAL"):
            break
        pause.wait(0.05)
    return [json.loads(e["message"]) for e in events]


FAILING = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "F"}, "F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}


def test_logging_level_all_delivers_every_history_event_in_aws_shape(aws, run_machine):
    messages = _logged_run(aws, run_machine, "ALL", True, FAILING)
    assert [m["type"] for m in messages] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                             "FailStateEntered", "ExecutionFailed"]
    first = messages[0]
    assert list(first) == ["id", "type", "details", "previous_event_id", "event_timestamp", "execution_arn"]
    assert first["event_timestamp"].isdigit() and ":execution:" in first["execution_arn"]
    assert json.loads(first["details"]["input"]) == {"secret": "input-data"}


def test_logging_level_error_delivers_failures_only_and_hides_data_unless_included(aws, run_machine):
    messages = _logged_run(aws, run_machine, "ERROR", False, FAILING)
    assert [m["type"] for m in messages] == ["FailStateEntered", "ExecutionFailed"]
    assert "input-data" not in json.dumps(messages)


def test_logging_level_fatal_delivers_the_execution_failure_only(aws, run_machine):
    messages = _logged_run(aws, run_machine, "FATAL", True, FAILING)
    assert [m["type"] for m in messages] == ["ExecutionFailed"]
    assert messages[0]["details"] == {"error": "E", "cause": "C"}
