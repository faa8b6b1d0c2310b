"""TestState (sim/aws/moto_seams/sfn_test_state.py) answers as AWS does: the cases and expected answers
follow LocalStack's tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json, recorded against AWS
(test names cited), and the API reference's TestState page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"
HELLO = json.dumps({"Value": "HelloWorld"})
NESTED = json.dumps({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
                     "unrelatedData": {"someOtherField": 1234}})
PASS_STATE = {"Type": "Pass", "End": True}
LAMBDA_TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"FunctionName": "foo", "Payload.$": "$"}, "End": True}


@pytest.fixture(scope="module")
def sync_sfn(aws):
    """AWS serves TestState under the `sync-` host prefix, which cannot resolve on 127.0.0.1."""
    return aws.client("stepfunctions", inject_host_prefix=False)


def run(sync_sfn: Any, state: dict[str, Any], state_input: str = HELLO, level: str = "DEBUG", **kwargs: Any) -> dict:
    response = sync_sfn.test_state(definition=json.dumps(state), roleArn=ROLE, input=state_input,
                                   inspectionLevel=level, **kwargs)
    response.pop("ResponseMetadata")
    return response


def parsed(response: dict[str, Any]) -> dict[str, Any]:
    """The response with its JSON text fields read, as the recorded snapshots show them."""
    out = {k: json.loads(v) if k == "output" else v for k, v in response.items()}
    if "inspectionData" in out:
        out["inspectionData"] = {k: json.loads(v) if isinstance(v, str) else v
                                 for k, v in out["inspectionData"].items()}
    return out


def refused(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# -- inspection levels (test_test_state_scenarios: test_base_inspection_level_info/debug/trace) ------------

def test_info_level_answers_without_inspection_data(sync_sfn):
    assert parsed(run(sync_sfn, {"Type": "Pass", "End": True}, level="INFO")) == {
        "output": {"Value": "HelloWorld"}, "status": "SUCCEEDED"}


@pytest.mark.parametrize("level", ["DEBUG", "TRACE"])
def test_a_pass_state_shows_each_processing_step(sync_sfn, level):  # IO_PASS_STATE
    state = {"Type": "Pass", "InputPath": "$.initialData", "ResultPath": "$.modifiedData", "End": True,
             "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"}}
    modified = {"staticValue": "some value", "inputValue": "value from input"}
    output = {**json.loads(NESTED), "modifiedData": modified}
    assert parsed(run(sync_sfn, state, NESTED, level=level)) == {
        "output": output, "status": "SUCCEEDED",
        "inspectionData": {"input": json.loads(NESTED), "afterInputPath": json.loads(NESTED)["initialData"],
                           "afterParameters": modified, "afterResultSelector": modified, "afterResultPath": output}}


def test_a_pass_state_with_a_result_shows_the_result_not_its_input_steps(sync_sfn):  # BASE_RESULT_PASS_STATE
    result = {"resultKey": "result value"}
    assert parsed(run(sync_sfn, {"Type": "Pass", "Result": result, "End": True}))["inspectionData"] == {
        "input": {"Value": "HelloWorld"}, "result": result, "afterResultSelector": result, "afterResultPath": result}


def test_a_choice_names_the_next_state_and_keeps_its_input(sync_sfn):  # BASE_CHOICE_STATE
    state = {"Type": "Choice", "Default": "ValueIsSmall",
             "Choices": [{"Variable": "$.value", "NumericGreaterThanEquals": 20, "Next": "ValueInTwenties"}]}
    assert parsed(run(sync_sfn, state, json.dumps({"type": "Private", "value": 22}))) == {
        "nextState": "ValueInTwenties", "output": {"type": "Private", "value": 22}, "status": "SUCCEEDED",
        "inspectionData": {"input": {"type": "Private", "value": 22}, "afterInputPath": {"type": "Private", "value": 22}}}


def test_a_fail_state_is_failed_with_its_error_and_cause(sync_sfn):  # BASE_FAIL_STATE
    state = {"Type": "Fail", "Error": "SomeFailure", "Cause": "This state machines raises a 'SomeFailure' failure."}
    assert parsed(run(sync_sfn, state)) == {
        "status": "FAILED", "error": "SomeFailure", "cause": "This state machines raises a 'SomeFailure' failure.",
        "inspectionData": {"input": {"Value": "HelloWorld"}, "afterInputPath": {"Value": "HelloWorld"}}}


def test_variables_are_readable_by_the_state_and_shown_in_inspection(sync_sfn):  # test_state_with_variables
    state = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"read": "{% $var_input_value %}"}, "End": True}
    response = parsed(run(sync_sfn, state, level="TRACE", variables=json.dumps({"var_input_value": "test_value"})))
    assert response["output"] == {"read": "test_value"}
    assert response["inspectionData"] == {"input": {"Value": "HelloWorld"}, "variables": {"var_input_value": "test_value"}}


MAP = {"Type": "Map", "MaxConcurrency": 1, "ItemsPath": "$.Values", "End": True,
       "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}}}
PARALLEL = {"Type": "Parallel", "End": True,
            "Branches": [{"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Result": 1, "End": True}}}]}


def test_a_mocked_map_shows_its_items_concurrency_and_tolerance(sync_sfn):
    # test_base_map_state_inspect, test_state_machine_with_state_error (afterItemsPath; numbers as numbers)
    response = run(sync_sfn, MAP, json.dumps({"Values": [1, 2, 3]}), mock={"result": "[1, 1, 1]"})
    assert json.loads(response["output"]) == [1, 1, 1]
    assert response["inspectionData"] == {"input": '{"Values":[1,2,3]}', "afterInputPath": '{"Values":[1,2,3]}',
                                          "afterItemsPath": "[1,2,3]", "maxConcurrency": 1}


@pytest.mark.parametrize("state", [MAP, PARALLEL])
def test_map_and_parallel_states_are_tested_only_with_a_mock(sync_sfn, state):  # test_state_type_requires_mock
    assert refused(sync_sfn.test_state, definition=json.dumps(state), roleArn=ROLE, input="{}") == (
        "InvalidDefinition", "TestState API does not support Map or Parallel states. Supported state types include: "
                             "[Task, Wait, Pass, Succeed, Fail, Choice]")


def test_a_mocked_fan_out_result_has_the_states_shape(sync_sfn):  # test_state_mock_validation
    def answer(state: dict, result: str) -> tuple[str, str]:
        return refused(sync_sfn.test_state, definition=json.dumps(state), roleArn=ROLE, input="{}",
                       mock={"result": result})
    assert answer(MAP, "{}") == ("ValidationException", "Mocked result must be an array.")
    assert answer(PARALLEL, "{}") == ("ValidationException", "Mocked result must be an array.")
    assert answer(PARALLEL, "[1, 2]") == (
        "ValidationException", "Mocked result must contain the same number of items as number of Parallel branches.")
    assert run(sync_sfn, PARALLEL, "{}", level="INFO", mock={"result": "[7]"}) == {"output": "[7]",
                                                                                  "status": "SUCCEEDED"}


def test_map_iteration_failures_beyond_tolerance_fail_the_map(sync_sfn):  # test_map_state_failure_count
    state = {**MAP, "ToleratedFailureCount": 1, "Next": "After",
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "HandleThreshold"}]}
    state.pop("End")
    values = json.dumps({"Values": ["first", "second", "third"]})
    tolerated = run(sync_sfn, state, values, level="INFO", mock={"result": "[1, 1, 1]"},
                    stateConfiguration={"mapIterationFailureCount": 1})
    assert (tolerated["status"], tolerated["nextState"]) == ("SUCCEEDED", "After")
    exceeded = run(sync_sfn, state, values, mock={"result": "[1, 1, 1]"},
                   stateConfiguration={"mapIterationFailureCount": 2})
    assert (exceeded["status"], exceeded["error"], exceeded["cause"], exceeded["nextState"]) == (
        "CAUGHT_ERROR", "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded", "HandleThreshold")
    assert exceeded["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    assert exceeded["inspectionData"]["toleratedFailureCount"] == 1
    assert refused(sync_sfn.test_state, definition=json.dumps(state), roleArn=ROLE, input=values,
                   mock={"result": "[1]"}, stateConfiguration={"mapIterationFailureCount": 2}) == (
        "ValidationException", "Map iteration failure count must be less than or equal to the number of Map iterations")
    assert refused(sync_sfn.test_state, definition=json.dumps(PASS_STATE), roleArn=ROLE, input=values,
                   stateConfiguration={"mapIterationFailureCount": 1}) == (
        "ValidationException", "TestState does not support MapIterationFailureCount when a mock is not specified.")


# -- mocks, retries and catches (test_state_configuration, test_test_state_mock_scenarios,
#    test_test_state_scenarios: test_state_task_catch_error) -----------------------------------------------

def test_a_mocked_task_result_goes_through_result_selector_and_result_path(sync_sfn):
    state = {**LAMBDA_TASK, "ResultSelector": {"answer.$": "$.Payload"}, "ResultPath": "$.call"}
    response = parsed(run(sync_sfn, state, mock={"result": json.dumps({"Payload": 42})}))
    assert response["output"] == {"Value": "HelloWorld", "call": {"answer": 42}}
    assert response["inspectionData"] == {
        "input": {"Value": "HelloWorld"}, "afterInputPath": {"Value": "HelloWorld"},
        "afterParameters": {"FunctionName": "foo", "Payload": {"Value": "HelloWorld"}}, "result": {"Payload": 42},
        "afterResultSelector": {"answer": 42}, "afterResultPath": {"Value": "HelloWorld", "call": {"answer": 42}}}


def test_a_matching_catcher_makes_the_error_caught_with_its_index_and_target(sync_sfn):
    state = {**LAMBDA_TASK, "Catch": [{"ErrorEquals": ["Other"], "Next": "HandleOther"},
                                      {"ErrorEquals": ["States.ALL"], "ResultPath": "$.errorOutput",
                                       "Next": "HandleMockError"}]}
    response = parsed(run(sync_sfn, state, mock={"errorOutput": {"error": "MockException",
                                                                 "cause": "Mock the cause of the error."}}))
    assert (response["status"], response["nextState"], response["error"]) == (
        "CAUGHT_ERROR", "HandleMockError", "MockException")
    assert response["output"] == {"Value": "HelloWorld", "errorOutput": {"Error": "MockException",
                                                                         "Cause": "Mock the cause of the error."}}
    assert response["inspectionData"]["errorDetails"] == {"catchIndex": 1}


def test_a_retrier_with_attempts_left_is_retriable_with_its_backoff(sync_sfn):
    # test_state_configuration_retrier_retry_count: IntervalSeconds 2, BackoffRate 2, third retry -> 16 s
    state = {**LAMBDA_TASK, "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 2, "MaxAttempts": 4}]}
    failure = {"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}
    retriable = parsed(run(sync_sfn, state, mock=failure, stateConfiguration={"retrierRetryCount": 3}))
    assert retriable["status"] == "RETRIABLE"
    assert retriable["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 16}
    exhausted = parsed(run(sync_sfn, state, mock=failure, stateConfiguration={"retrierRetryCount": 4}))
    assert (exhausted["status"], exhausted["inspectionData"]["errorDetails"]) == ("FAILED", {"retryIndex": 0})


def test_states_all_does_not_catch_a_runtime_error(sync_sfn):  # developer guide, "Error handling"
    state = {**LAMBDA_TASK, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]}
    caught = run(sync_sfn, state, mock={"errorOutput": {"error": "States.TaskFailed", "cause": "c"}})
    assert caught["status"] == "CAUGHT_ERROR"
    runtime = run(sync_sfn, state, mock={"errorOutput": {"error": "States.Runtime", "cause": "c"}})
    assert (runtime["status"], runtime["error"]) == ("FAILED", "States.Runtime")


# -- refusals (test_state_mock_validation, test_test_state_machine_scenarios,
#    test_base_lambda_service_task_state_no_role_arn_validation) ----------------------------------------------

def test_a_task_needs_a_role_unless_mocked(sync_sfn):
    assert refused(sync_sfn.test_state, definition=json.dumps(LAMBDA_TASK), input="{}") == (
        "ValidationException", "RoleArn must be specified when testing a Task state")


@pytest.mark.parametrize("kind", ["Pass", "Succeed", "Fail"])
def test_a_state_that_calls_nothing_cannot_be_mocked(sync_sfn, kind):
    state = {"Type": kind, **({"End": True} if kind == "Pass" else {})}
    assert refused(sync_sfn.test_state, definition=json.dumps(state), roleArn=ROLE, mock={"result": "{}"}) == (
        "ValidationException", f"State type '{kind}' is not supported when a mock is specified")


def test_a_mock_is_a_result_or_an_error_not_both(sync_sfn):
    assert refused(sync_sfn.test_state, definition=json.dumps(LAMBDA_TASK), roleArn=ROLE,
                   mock={"result": "{}", "errorOutput": {"error": "E", "cause": "C"}}) == (
        "ValidationException", "A test mock should have only one of the following fields: [result, errorOutput].")
    assert refused(sync_sfn.test_state, definition=json.dumps(LAMBDA_TASK), roleArn=ROLE,
                   mock={"result": "not json"}) == ("ValidationException", "Mocked result must be valid JSON")
    assert refused(sync_sfn.test_state, definition=json.dumps(LAMBDA_TASK), roleArn=ROLE, revealSecrets=True,
                   mock={"result": "{}"}) == (
        "ValidationException", "TestState does not support RevealSecrets when a mock is specified.")


def test_state_name_picks_a_state_of_a_whole_machine(sync_sfn):
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "Next": "B"},
                                          "B": {"Type": "Pass", "Result": 2, "End": True}}}
    assert parsed(run(sync_sfn, machine, "{}", level="INFO", stateName="A")) == {
        "output": 1, "nextState": "B", "status": "SUCCEEDED"}
    assert refused(sync_sfn.test_state, definition=json.dumps(machine), roleArn=ROLE, stateName="Z") == (
        "ValidationException", "State not found in definition")


def test_a_definition_that_is_not_json_is_invalid_definition(sync_sfn):
    code, message = refused(sync_sfn.test_state, definition="{not json", roleArn=ROLE)
    assert code == "InvalidDefinition"
    assert message.startswith("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ")


# -- mocked results checked against the API (test_field_validation_mode*.snapshot.json) ------------------------

START_EXECUTION = {"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::states:startExecution",
                   "Arguments": {"Input": "{% $states.input %}", "StateMachineArn": "{% $states.input.machine %}"},
                   "Output": {"targetExecutionResult": "{% $states.result %}"}, "End": True}
MACHINE_INPUT = json.dumps({"machine": "arn:aws:states:us-east-1:123456789012:stateMachine:target"})


def test_a_jsonata_task_outputs_its_mocked_result_and_shows_its_arguments(sync_sfn):
    result = {"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:target:1",
              "StartDate": "2025-01-01T00:00:00Z"}
    response = parsed(run(sync_sfn, START_EXECUTION, MACHINE_INPUT, mock={"result": json.dumps(result)}))
    assert response["output"] == {"targetExecutionResult": result}
    assert response["inspectionData"]["afterArguments"] == {
        "Input": json.loads(MACHINE_INPUT), "StateMachineArn": json.loads(MACHINE_INPUT)["machine"]}


@pytest.mark.parametrize(("mode", "expected"), [
    (None, ("ValidationException", "Mock result schema validation error: Required field 'ExecutionArn' is missing")),
    ("STRICT", ("ValidationException", "Mock result schema validation error: Required field 'ExecutionArn' is missing")),
])
def test_strict_mode_wants_the_apis_required_fields_by_their_integration_names(sync_sfn, mode, expected):
    mock = {"result": json.dumps({"executionArn": "a", "startDate": "b"}), **({"fieldValidationMode": mode} if mode else {})}
    assert refused(sync_sfn.test_state, definition=json.dumps(START_EXECUTION), roleArn=ROLE, input=MACHINE_INPUT,
                   mock=mock) == expected


def test_present_mode_checks_only_the_fields_given_and_none_mode_nothing(sync_sfn):
    loose = {"result": json.dumps({"executionArn": "a"}), "fieldValidationMode": "PRESENT"}
    assert parsed(run(sync_sfn, START_EXECUTION, MACHINE_INPUT, level="INFO", mock=loose))["status"] == "SUCCEEDED"
    wrong = json.dumps({"ExecutionArn": "a", "StartDate": True})
    assert refused(sync_sfn.test_state, definition=json.dumps(START_EXECUTION), roleArn=ROLE, input=MACHINE_INPUT,
                   mock={"result": wrong, "fieldValidationMode": "PRESENT"}) == (
        "ValidationException", "Mock result schema validation error: Field 'StartDate' must be a string")
    unchecked = run(sync_sfn, START_EXECUTION, MACHINE_INPUT, level="INFO",
                    mock={"result": wrong, "fieldValidationMode": "NONE"})
    assert json.loads(unchecked["output"]) == {"targetExecutionResult": {"ExecutionArn": "a", "StartDate": True}}


@pytest.mark.parametrize(("resource", "result", "problem"), [
    ("arn:aws:states:::events:putEvents", {"Entries": [{"EventId": "a"}, {"EventId": 1}]},
     "Field 'EventId' must be a string"),
    ("arn:aws:states:::lambda:invoke", {"StatusCode": "200", "Payload": {}}, "Field 'StatusCode' must be a number"),
    ("arn:aws:states:::aws-sdk:s3:getObject", {"StorageClass": "NO_SUCH_CLASS"},
     "Field 'StorageClass' is not an expected value"),
    ("arn:aws:states:::aws-sdk:kms:encrypt", {"CiphertextBlob": ""},
     "Field 'CiphertextBlob' is smaller than the minimum length"),
    ("arn:aws:states:::aws-sdk:lambda:getFunction", {"Configuration": {"MemorySize": 1}},
     "Field 'MemorySize' is less than the minimum value"),
])
def test_mocked_results_are_checked_against_the_apis_output_shape(sync_sfn, resource, result, problem):
    state = {"Type": "Task", "Resource": resource, "End": True}
    assert refused(sync_sfn.test_state, definition=json.dumps(state), roleArn=ROLE,
                   mock={"result": json.dumps(result)}) == (
        "ValidationException", f"Mock result schema validation error: {problem}")


def test_fields_the_api_does_not_have_are_accepted(sync_sfn):  # field_not_part_of_api_spec
    state = {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True}
    response = run(sync_sfn, state, level="INFO", mock={"result": json.dumps({"random": "json"})})
    assert (response["status"], json.loads(response["output"])) == ("SUCCEEDED", {"random": "json"})


# -- a mocked context object (test_state_context_object.snapshot.json) ----------------------------------------

CONTEXT = {"Execution": {"Id": "arn:aws:states:::execution:MyStateMachine:execution-name-12345",
                         "Input": {"values": ["charizard", "pikachu"]}, "Name": "execution-name-12345"},
           "State": {"Name": "MyTaskState", "RetryCount": 0}}


def test_the_state_reads_the_mocked_context_object(sync_sfn):
    state = {**LAMBDA_TASK, "Parameters": {"FunctionName": "f", "Payload": {"Input.$": "$$.Execution.Input"}},
             "ResultSelector": {"ContextObjectValue.$": "$$.Execution.Input.values", "LambdaOutput.$": "$.Payload"}}
    response = parsed(run(sync_sfn, state, context=json.dumps(CONTEXT),
                          mock={"result": json.dumps({"Payload": {"pokemon": "pikachu"}})}))
    assert response["output"] == {"ContextObjectValue": ["charizard", "pikachu"], "LambdaOutput": {"pokemon": "pikachu"}}
    assert response["inspectionData"]["afterParameters"] == {
        "FunctionName": "f", "Payload": {"Input": {"values": ["charizard", "pikachu"]}}}
    jsonata = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.context.Execution.Name %}", "End": True}
    assert run(sync_sfn, jsonata, level="INFO", context=json.dumps(CONTEXT))["output"] == '"execution-name-12345"'


def test_an_empty_context_object_is_what_the_state_sees(sync_sfn):  # EMPTY
    state = {**LAMBDA_TASK, "ResultSelector": {"ContextObjectValue.$": "$$"}}
    response = run(sync_sfn, state, level="INFO", context="{}", mock={"result": json.dumps({"Payload": 1})})
    assert json.loads(response["output"]) == {"ContextObjectValue": {}}


@pytest.mark.parametrize(("context", "why"), [
    ({"Pokedex": {}}, "Field 'Pokedex' is not allowed"),
    ({"Execution": {"pokemon": ["charizard"]}}, "Field 'pokemon' is not allowed"),
    ({"Execution": {"Id": 42}}, "Execution.Id must be a string"),
    ({"Map": {"Item": {"Index": 2}}}, "'Map' field is not supported when mocking a Context object"),
    ({"Task": {"Token": "abcd123"}}, "Context object contains 'Task' when state is not a Task state with a "
                                     "'.sync' or '.waitForTaskToken' service integration pattern"),
])
def test_a_mocked_context_object_is_checked(sync_sfn, context, why):
    assert refused(sync_sfn.test_state, definition=json.dumps(LAMBDA_TASK), roleArn=ROLE, context=json.dumps(context),
                   mock={"result": "{}"}) == ("ValidationException", f"Invalid Context object provided: {why}")


def test_an_input_that_is_not_json_is_invalid_execution_input(sync_sfn):  # TestState's errors in botocore's model
    assert refused(sync_sfn.test_state, definition=json.dumps(PASS_STATE), roleArn=ROLE, input="not json") == (
        "InvalidExecutionInput", "Invalid State Machine Execution Input: 'Unrecognized token 'not': was expecting "
                                 "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')'")


# -- states inside a Map or a Parallel, and the rest of stateConfiguration (test_test_state_machine_scenarios,
#    test_state_configuration, test_state_mock_validation) ---------------------------------------------------

MAP_MACHINE = {"StartAt": "State0", "States": {"State0": {
    "Type": "Map", "ItemsPath": "$.Values", "ToleratedFailureCount": 2, "End": True,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "HandleItem",
                      "States": {"HandleItem": {"Type": "Pass", "End": True}}}}}}


def test_state_name_reaches_a_state_inside_a_map(sync_sfn):  # test_base_state_name[DEBUG-BASE_MAP_STATE_MACHINE]
    hello = json.loads(HELLO)
    assert parsed(run(sync_sfn, MAP_MACHINE, stateName="HandleItem")) == {
        "output": hello, "status": "SUCCEEDED",
        "inspectionData": {"input": hello, "afterInputPath": hello, "afterParameters": hello,
                           "afterResultSelector": hello, "afterResultPath": hello}}
    branch = {"StartAt": "Fork", "States": {"Fork": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Result": "left", "Next": "LeftDone"},
                                       "LeftDone": {"Type": "Succeed"}}}]}}}
    assert parsed(run(sync_sfn, branch, level="INFO", stateName="Left")) == {
        "output": "left", "nextState": "LeftDone", "status": "SUCCEEDED"}


@pytest.mark.parametrize("failures", [0, 2])
def test_a_mocked_map_error_caused_by_an_inner_state_is_the_maps_failure(sync_sfn, failures):
    # test_state_machine_with_state_error[DEBUG]: the mocked error, whatever the failure count
    response = parsed(run(sync_sfn, MAP_MACHINE, json.dumps({"Values": ["first", "second", "third"]}),
                          stateName="State0", mock={"errorOutput": {"error": "MockException", "cause": "Mock the error cause."}},
                          stateConfiguration={"mapIterationFailureCount": failures, "errorCausedByState": "HandleItem"}))
    values = {"Values": ["first", "second", "third"]}
    assert response == {"status": "FAILED", "error": "MockException", "cause": "Mock the error cause.",
                        "inspectionData": {"input": values, "afterInputPath": values,
                                           "afterItemsPath": ["first", "second", "third"],
                                           "maxConcurrency": 0, "toleratedFailureCount": 2}}


def test_a_distributed_map_reading_items_takes_the_reader_data_and_its_mocked_result(sync_sfn):
    # test_state_machine_configuration_map_iteration_item_reader[DEBUG]
    machine = {"QueryLanguage": "JSONata", "StartAt": "State0", "States": {"State0": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemReader": {"ReaderConfig": {"InputType": "JSON"}, "Resource": "arn:aws:states:::s3:getObject",
                       "Arguments": {"Bucket": "{% $states.input.Bucket %}", "Key": "{% $states.input.Key %}"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "HandleItem", "States": {"HandleItem": {"Type": "Pass", "End": True}}}}}}
    where = {"Bucket": "test-bucket", "Key": "test-key"}
    response = parsed(run(sync_sfn, machine, json.dumps(where), stateName="State0", mock={"result": "[1, 4, 9]"},
                          stateConfiguration={"mapItemReaderData": json.dumps([1, 2, 3])}))
    assert response == {"output": [1, 4, 9], "status": "SUCCEEDED",
                        "inspectionData": {"input": where, "maxConcurrency": 1}}


def test_a_parallel_state_without_branches_is_an_invalid_definition(sync_sfn):  # test_parallel_state_empty_branches
    assert refused(sync_sfn.test_state, definition=json.dumps({"Type": "Parallel", "Branches": [], "End": True}),
                   inspectionLevel="TRACE", mock={"result": "[]"}) == (
        "InvalidDefinition",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/StateName/Branches'")


def test_a_state_of_no_known_type_is_an_invalid_definition(sync_sfn):  # test_state_name_invalid_state_definition
    machine = {"StartAt": "ExistingButInvalidState",
               "States": {"ExistingButInvalidState": {"Type": "TypeThatDoesNotExist", "End": True}}}
    assert refused(sync_sfn.test_state, definition=json.dumps(machine), stateName="ExistingButInvalidState",
                   input=HELLO) == (
        "InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should "
                             "have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at "
                             "/States/ExistingButInvalidState/Type'")


def test_a_map_writing_its_results_is_mocked_with_an_object(sync_sfn):
    # test_mock_result_is_not_object_on_map_state_with_result_writer: a ResultWriter Map answers a manifest object
    state = {**MAP, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                     "Parameters": {"Bucket": "result-bucket", "Prefix": "mapJobs"}}}
    assert refused(sync_sfn.test_state, definition=json.dumps(state), roleArn=ROLE, input=json.dumps({"Values": [1]}),
                   mock={"result": "[1]"}) == ("ValidationException", "Mocked result must be a JSON object.")
    written = {"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:m/TestMap:1",
               "ResultWriterDetails": {"Bucket": "result-bucket", "Key": "mapJobs/manifest.json"}}
    response = run(sync_sfn, state, json.dumps({"Values": [1]}), level="INFO", mock={"result": json.dumps(written)})
    assert (response["status"], json.loads(response["output"])) == ("SUCCEEDED", written)


def test_a_mocked_jsonata_map_outputs_its_states_with_the_mocked_result(sync_sfn):
    # test_map_state_failure_count[INFO-BASE_MAP_STATE]: "Output": "{% $states %}" is input, context and result
    state = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}", "Output": "{% $states %}",
             "End": True, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                            "StartAt": "TestState", "States": {"TestState": {
                                                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                "Arguments": {"FunctionName": "foo", "Payload": "bar"}, "End": True}}}}
    values = {"Values": ["first", "second", "third"]}
    output = json.loads(run(sync_sfn, state, json.dumps(values), level="INFO", mock={"result": "[1, 1, 1]"},
                            stateConfiguration={"mapIterationFailureCount": 0})["output"])
    assert sorted(output) == ["context", "input", "result"]
    assert (output["input"], output["result"]) == (values, [1, 1, 1])
    assert output["context"]["Execution"]["Input"] == values


def test_a_jsonata_catcher_outputs_what_its_output_says(sync_sfn):
    # test_map_state_failure_count[INFO-BASE_MAP_STATE_CATCH]: the catcher's "{% $states %}" is input, context
    # and errorOutput; without an Output a JSONata catcher outputs the error output
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "TestState",
                 "States": {"TestState": {"Type": "Task", "End": True,
                                          "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}}}
    state = {"Type": "Map", "QueryLanguage": "JSONata", "Items": "{% $states.input.Values %}", "End": True,
             "ItemProcessor": processor, "ToleratedFailureCount": 1,
             "Catch": [{"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
                       {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Output": "{% $states %}",
                        "Next": "HandleThreshold"}]}
    values = {"Values": ["first", "second", "third"]}
    response = run(sync_sfn, state, json.dumps(values), level="INFO", mock={"result": "[0, 0, 1]"},
                   stateConfiguration={"mapIterationFailureCount": 2})
    assert (response["status"], response["nextState"], response["error"]) == (
        "CAUGHT_ERROR", "HandleThreshold", "States.ExceedToleratedFailureThreshold")
    output = json.loads(response["output"])
    assert sorted(output) == ["context", "errorOutput", "input"]
    assert (output["input"], output["errorOutput"]) == (values, {
        "Error": "States.ExceedToleratedFailureThreshold", "Cause": "The specified tolerated failure threshold was exceeded"})
    plain = {**state, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]}
    caught = run(sync_sfn, plain, json.dumps(values), level="INFO",
                 mock={"errorOutput": {"error": "MockException", "cause": "c"}})
    assert json.loads(caught["output"]) == {"Error": "MockException", "Cause": "c"}
