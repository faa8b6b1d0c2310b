"""Definitions AWS refuses are refused with InvalidDefinition and AWS's message style, at
CreateStateMachine and in ValidateStateMachineDefinition (sim/aws/moto_seams/sfn_definition.py)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"


def _create_error(sfn, definition) -> dict:
    with pytest.raises(ClientError) as caught:
        sfn.create_state_machine(name="refused", roleArn=ROLE,
                                 definition=definition if isinstance(definition, str) else json.dumps(definition))
    return caught.value.response["Error"]


def test_dangling_next_is_invalid_definition_with_aws_message(sfn):
    error = _create_error(sfn, {"StartAt": "pass1", "States": {
        "pass1": {"Type": "Pass", "Next": "pass3"}, "pass2": {"Type": "Pass", "End": True}}})
    # localstack#11978 records AWS's answer to this very definition.
    assert error == {"Code": "InvalidDefinition", "Message":
                     "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at "
                     "/States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"}


def test_definition_that_is_not_json_is_invalid_json_description(sfn):
    error = _create_error(sfn, "{")
    assert error["Code"] == "InvalidDefinition"
    assert error["Message"].startswith("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ")


@pytest.mark.parametrize("definition, location", [
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True,
                                       "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A"}]}}}, "/States/A/Catch"),
    ({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 + %}", "End": True}}},
     "/States/A/Output"),
    ({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
                                       "Retry": [{"ErrorEquals": ["States.Nope"]}], "End": True}}},
     "/States/A/Retry[0]/ErrorEquals[0]"),
], ids=["catch-on-pass", "jsonata-that-does-not-parse", "unknown-states-error-name"])
def test_schema_violations_are_refused_at_their_location(sfn, definition, location):
    error = _create_error(sfn, definition)
    assert error["Code"] == "InvalidDefinition"
    assert "SCHEMA_VALIDATION_FAILED" in error["Message"] and f" at {location}'" in error["Message"]


def test_a_refused_jsonata_definition_does_not_leak_its_query_language_into_later_ones(sfn, run_machine):
    _create_error(sfn, {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"a": 1}, "End": True}}})
    run = run_machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"b.$": "$.a"}, "End": True}}},
                      {"a": 1})
    assert run.output == {"b": 1}


def test_validate_state_machine_definition_lists_diagnostics(sfn):
    bad = sfn.validate_state_machine_definition(definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "NOPE"}}}))
    assert (bad["result"], bad["truncated"]) == ("FAIL", False)
    assert bad["diagnostics"] == [
        {"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "message": "Missing 'Next' target: NOPE",
         "location": "/States/A/Next"},
        {"severity": "ERROR", "code": "MISSING_END_STATE", "message": "Workflow has no terminal state"},
    ]
    good = sfn.validate_state_machine_definition(definition=json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}))
    assert (good["result"], good["diagnostics"]) == ("OK", [])


# Wordings recorded against AWS in LocalStack's test_sfn_api_validation.snapshot.json, test_sfn_api.snapshot.json
# (test_create_delete_invalid_sm) and test_test_state_machine_scenarios.snapshot.json.

@pytest.mark.parametrize(("definition", "diagnostic"), [
    (" ", {"code": "SCHEMA_VALIDATION_FAILED", "message": "Definition must be a valid JSON object"}),
    ("not a definition", {
        "code": "INVALID_JSON_DESCRIPTION", "location": '[Source: (String)"not a definition"; line: 1, column: 4]',
        "message": "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', "
                   "'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"}),
    ("{}", {"code": "SCHEMA_VALIDATION_FAILED", "location": "/", "message": "These fields are required: [States, StartAt]"}),
    ('{"States": {"A": {"Type": "Pass", "End": true}}}',
     {"code": "SCHEMA_VALIDATION_FAILED", "location": "/", "message": "These fields are required: [StartAt]"}),
], ids=["EMPTY_STRING", "NOT_A_DEF", "EMPTY_DICT", "NO_STARTAT"])
def test_validation_of_what_is_not_a_definition_words_it_as_aws_does(sfn, definition, diagnostic):
    answer = sfn.validate_state_machine_definition(definition=definition, type="STANDARD")
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"] == [{"severity": "ERROR", **diagnostic}]


def test_a_definition_without_states_names_the_missing_field(sfn):
    assert _create_error(sfn, {"StartAt": "A"})["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'")


def test_a_state_of_no_known_type_is_reported_alone(sfn):
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True},
                                             "ExistingButInvalidState": {"Type": "Bogus"}}}
    assert _create_error(sfn, definition)["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these "
        "values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/ExistingButInvalidState/Type'")


def test_a_jsonpath_state_in_a_jsonata_machine_is_named_at_the_state(sfn):  # INVALID_DOWNGRADE_QUERY_LANGUAGE
    definition = json.dumps({"QueryLanguage": "JSONata", "StartAt": "Pass", "States": {
        "Pass": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}})
    answer = sfn.validate_state_machine_definition(definition=definition)
    assert answer["diagnostics"] == [{
        "severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "location": "/States/Pass",
        "message": "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"}]
