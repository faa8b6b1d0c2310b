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
