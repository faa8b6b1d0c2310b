"""Step Functions requests AWS refuses before running the action: model constraints (ValidationException)
and ARN shapes (InvalidArn) — sim/aws/moto_seams/sfn_requests.py, sfn_constraints.py, sfn_arns.py.

Expected codes and messages are AWS's, as recorded against AWS in LocalStack's
tests/aws/services/stepfunctions/v2/test_sfn_api*.snapshot.json (cited per test) and as botocore's
service model (stepfunctions service-2.json) states the constraints.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from sim.aws.moto_seams.sfn_constraints import constraint_violations, validation_message

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
VERSION_PATTERN = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"


def refused(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


@pytest.fixture(scope="module")
def machine(sfn):
    return sfn.create_state_machine(name="api-validation", definition=PASS,
                                    roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]


# -- model constraints (test_sfn_api.snapshot.json: test_list_sms_pagination, test_state_machine_status_filter,
#    test_list_executions_pagination; test_sfn_api_aliasing.snapshot.json: name and weight cases) --------------

def test_max_results_over_the_model_maximum_is_a_validation_exception(sfn):
    assert refused(sfn.list_state_machines, maxResults=1001) == (
        "ValidationException",
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000")


def test_next_token_over_its_maximum_length_is_a_validation_exception(sfn, machine):
    token = "t" * 3097
    assert refused(sfn.list_executions, stateMachineArn=machine, nextToken=token) == (
        "ValidationException",
        f"1 validation error detected: Value '{token}' at 'nextToken' failed to satisfy constraint: "
        "Member must have length less than or equal to 3096")


def test_status_filter_outside_the_enum_lists_the_values_as_aws_does(sfn, machine):
    assert refused(sfn.list_executions, stateMachineArn=machine, statusFilter="succeeded") == (
        "ValidationException",
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]")


@pytest.mark.parametrize("name", ["123", "INVALID ALIAS", "!INVALID", "ALIAS@"])
def test_alias_name_must_match_the_model_pattern(sfn, machine, name):
    assert refused(sfn.create_state_machine_alias, name=name, routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:1", "weight": 100}]) == (
        "ValidationException",
        f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {VERSION_PATTERN}")


def test_routing_weight_over_100_is_addressed_by_its_list_position(sfn, machine):
    assert refused(sfn.create_state_machine_alias, name="alias", routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:1", "weight": 101}]) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy "
        "constraint: Member must have value less than or equal to 100")


def test_three_routes_show_the_list_as_java_prints_it(sfn, machine):
    routes = [{"stateMachineVersionArn": f"{machine}:{n}", "weight": w} for n, w in ((1, 50), (2, 30), (3, 20))]
    shown = ", ".join(f"RoutingConfigurationListItem(stateMachineVersionArn={r['stateMachineVersionArn']}, "
                      f"weight={r['weight']})" for r in routes)
    assert refused(sfn.create_state_machine_alias, name="alias", routingConfiguration=routes) == (
        "ValidationException",
        f"1 validation error detected: Value '[{shown}]' at 'routingConfiguration' failed to satisfy constraint: "
        "Member must have length less than or equal to 2")


def test_tag_key_and_value_lengths_follow_the_model(sfn, machine):
    key = "k" * 129
    assert refused(sfn.tag_resource, resourceArn=machine, tags=[{"key": key, "value": "v"}]) == (
        "ValidationException",
        f"1 validation error detected: Value '{key}' at 'tags.1.member.key' failed to satisfy constraint: "
        "Member must have length less than or equal to 128")
    value = "v" * 257
    assert refused(sfn.tag_resource, resourceArn=machine, tags=[{"key": "k", "value": value}])[1].endswith(
        f"Value '{value}' at 'tags.1.member.value' failed to satisfy constraint: "
        "Member must have length less than or equal to 256")


def test_several_violations_are_counted_and_joined_in_one_message():
    violations = constraint_violations("ListExecutions", {"stateMachineArn": "arn", "maxResults": 1001,
                                                          "nextToken": "t" * 3097})
    message = validation_message(violations)
    assert message.startswith("2 validation errors detected: Value '1001' at 'maxResults'")
    assert "; Value 'ttt" in message


def test_a_sensitive_member_is_named_without_its_value():
    [violation] = constraint_violations("StartExecution", {"stateMachineArn": "arn", "input": "x" * 262145})
    assert violation == ("Value at 'input' failed to satisfy constraint: "
                         "Member must have length less than or equal to 262144")


# -- ARNs (test_sfn_api.snapshot.json: test_describe_invalid_arn_sm, test_list_execution_invalid_arn,
#    test_describe_execution_invalid_arn, test_get_execution_history_invalid_arn;
#    test_sfn_api_activities.snapshot.json; test_sfn_api_versioning.snapshot.json;
#    test_sfn_api_express.snapshot.json: Express execution ARNs) ---------------------------------------------

@pytest.mark.parametrize(("action", "params"), [
    ("describe_state_machine", {"stateMachineArn": "not_a_valid_arn"}),
    ("list_executions", {"stateMachineArn": "not_a_valid_arn"}),
    ("describe_execution", {"executionArn": "not_a_valid_arn"}),
    ("get_execution_history", {"executionArn": "not_a_valid_arn"}),
    ("describe_activity", {"activityArn": "not_a_valid_arn"}),
    ("publish_state_machine_version", {"stateMachineArn": "not_a_valid_arn"}),
    ("list_state_machine_versions", {"stateMachineArn": "not_a_valid_arn"}),
    ("describe_state_machine_alias", {"stateMachineAliasArn": "not_a_valid_arn"}),
    ("delete_state_machine_version", {"stateMachineVersionArn": "not_a_valid_arn"}),
])
def test_a_parameter_that_is_not_an_arn_is_an_invalid_arn_prefix(sfn, action, params):
    assert refused(getattr(sfn, action), **params) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'")


def test_an_express_execution_arn_is_not_valid_for_describe_stop_or_history(sfn):
    arn = "arn:aws:states:us-east-1:123456789012:express:machine:run:0123"
    expected = ("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")
    assert refused(sfn.describe_execution, executionArn=arn) == expected
    assert refused(sfn.stop_execution, executionArn=arn) == expected
    assert refused(sfn.get_execution_history, executionArn=arn) == expected


def test_a_state_machine_arn_where_an_execution_is_expected_names_its_resource_type(sfn, machine):
    assert refused(sfn.describe_execution, executionArn=machine) == (
        "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: stateMachine'")


def test_an_arn_of_the_right_type_that_names_nothing_is_does_not_exist(sfn, machine):
    missing = machine + "-missing"
    assert refused(sfn.describe_state_machine, stateMachineArn=missing) == (
        "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'")


# -- resources and values (sfn_lookups; test_sfn_api.snapshot.json: test_invalid_start_execution_input,
#    test_create_duplicate_definition_format_sm, test_create_duplicate_sm_name;
#    test_sfn_api_activities.snapshot.json: test_describe_deleted_activity, test_get_activity_task_deleted) ----

@pytest.mark.parametrize(("text", "why"), [
    ("not some json", "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token "
                      "'null', 'true' or 'false')"),
    ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
    ("", "Invalid execution input."),
])
def test_execution_input_that_is_not_json_is_refused_in_the_json_parsers_words(sfn, machine, text, why):
    assert refused(sfn.start_execution, stateMachineArn=machine, input=text) == (
        "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{why}'")


def test_an_execution_name_with_a_forbidden_character_is_invalid_name(sfn, machine):
    assert refused(sfn.start_execution, stateMachineArn=machine, name="run 1") == ("InvalidName", "Invalid Name: 'run 1'")


def test_creating_an_existing_name_again_is_idempotent_unless_it_differs(sfn, machine):
    name = machine.rsplit(":", 1)[1]
    role = "arn:aws:iam::123456789012:role/r"
    assert sfn.create_state_machine(name=name, definition=PASS, roleArn=role)["stateMachineArn"] == machine
    other = json.dumps({"Comment": "other", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    expected = ("StateMachineAlreadyExists", f"State Machine Already Exists: '{machine}'")
    assert refused(sfn.create_state_machine, name=name, definition=other, roleArn=role) == expected
    assert refused(sfn.create_state_machine, name=name, definition=PASS, roleArn=role, type="EXPRESS") == expected


def test_an_activity_that_does_not_exist_is_refused_at_once_not_polled(sfn):
    arn = "arn:aws:states:us-east-1:123456789012:activity:no-such-activity"
    expected = ("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")
    assert refused(sfn.describe_activity, activityArn=arn) == expected
    assert refused(sfn.get_activity_task, activityArn=arn) == expected


def test_the_machine_of_an_unknown_execution_is_execution_does_not_exist(sfn, machine):
    arn = machine.replace(":stateMachine:", ":execution:") + ":no-such-run"
    assert refused(sfn.describe_state_machine_for_execution, executionArn=arn) == (
        "ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")


def test_an_unknown_map_run_is_resource_not_found(sfn, machine):  # was HTTP 500
    arn = machine.replace(":stateMachine:", ":mapRun:") + "/label:run"
    assert refused(sfn.describe_map_run, mapRunArn=arn) == ("ResourceNotFound", f"Resource not found: '{arn}'")


@pytest.mark.parametrize("configuration", [
    {"level": "ALL", "includeExecutionData": True},
    {"level": "ERROR", "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:a:*"}},
                                        {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:b:*"}}]},
])
def test_a_logging_level_needs_exactly_one_destination(sfn, configuration):  # test_sfn_api_logs.snapshot.json
    assert refused(sfn.create_state_machine, name="logged", definition=PASS, roleArn="arn:aws:iam::123456789012:role/r",
                   loggingConfiguration=configuration) == (
        "InvalidLoggingConfiguration", "Invalid Logging Configuration: Must specify exactly one Log Destination.")


def test_a_log_group_that_does_not_exist_is_not_a_destination(sfn):  # test_deleted_log_group
    group = "arn:aws:logs:us-east-1:123456789012:log-group:never-created:*"
    assert refused(sfn.create_state_machine, name="logged", definition=PASS, roleArn="arn:aws:iam::123456789012:role/r",
                   loggingConfiguration={"level": "ALL", "destinations": [
                       {"cloudWatchLogsLogGroup": {"logGroupArn": group}}]}) == (
        "InvalidLoggingConfiguration", "Invalid Logging Configuration: Log Destination not found.")


# -- Express machines (sfn_express; test_sfn_api_express.snapshot.json, test_sfn_api_validation.snapshot.json) ---

EXPRESS_ILLEGAL = [
    ("arn:aws:states:::sns:publish.waitForTaskToken",
     "Express state machine does not support '.waitForTaskToken' service integration  at /States/T/Resource"),
    ("arn:aws:states:::states:startExecution.sync",
     "Express state machine does not support '.sync' service integration at /States/T/Resource"),
    ("arn:aws:states:us-east-1:123456789012:activity:work",
     "Express state machine does not support Activity ARN at /States/T/Resource"),
]


@pytest.mark.parametrize(("resource", "why"), EXPRESS_ILLEGAL)
def test_an_express_machine_cannot_wait_for_callbacks_sync_jobs_or_activities(sfn, resource, why):
    definition = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}})
    assert refused(sfn.create_state_machine, name="express-illegal", definition=definition, type="EXPRESS",
                   roleArn="arn:aws:iam::123456789012:role/r") == (
        "InvalidDefinition", f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {why}'")
    checked = sfn.validate_state_machine_definition(definition=definition, type="EXPRESS")
    assert checked["result"] == "FAIL"
    assert [(d["code"], d["location"]) for d in checked["diagnostics"]] == [
        ("SCHEMA_VALIDATION_FAILED", "/States/T/Resource")]
    assert sfn.validate_state_machine_definition(definition=definition, type="STANDARD")["result"] == "OK"


def test_executions_of_an_express_machine_are_not_listed(sfn):
    machine = sfn.create_state_machine(name="express-unlisted", definition=PASS, type="EXPRESS",
                                       roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    assert refused(sfn.list_executions, stateMachineArn=machine) == (
        "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")


@pytest.mark.parametrize("action", ["list_state_machines", "list_activities"])
def test_an_unknown_page_token_is_invalid_token_with_the_reason_quoted(sfn, action):
    # test_sfn_api_aliasing.snapshot.json: "Invalid Token: 'Invalid token'"
    assert refused(getattr(sfn, action), nextToken="not-a-token") == ("InvalidToken", "Invalid Token: 'Invalid token'")


def test_only_a_failed_execution_can_be_redriven(aws, sfn, machine, wait_for):
    execution = aws.start_execution(machine, {})
    wait_for(sfn, execution)
    assert refused(sfn.redrive_execution, executionArn=execution) == (
        "ExecutionNotRedrivable", "Execution is SUCCEEDED and cannot be redriven")
    missing = execution + "-missing"
    assert refused(sfn.redrive_execution, executionArn=missing) == (
        "ExecutionDoesNotExist", f"Execution Does Not Exist: '{missing}'")
