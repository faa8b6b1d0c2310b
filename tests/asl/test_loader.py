"""asl.loader: every shipped definition loads, substitutes and validates; missing values are named."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

import asl
from asl.loader import Location

SHIPPED = ["glue_lab", "pipeline", "pipeline_callback", "pipeline_http", "pipeline_map"]


def test_the_five_definitions_ship():
    assert asl.names() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_definition_renders_to_valid_asl_without_placeholders(name, values):
    text = asl.render(name, values)
    assert "${" not in text
    assert asl.validate(json.loads(text)) == []


# moto has no HTTP Task (it refuses `States.Http.*` error names): the simulator's seam adds it, so that
# definition is checked against the simulator's moto. The others need nothing moto lacks.
MOTO_ALONE = [name for name in SHIPPED if name != "pipeline_http"]


@pytest.mark.parametrize("name", MOTO_ALONE)
def test_rendered_definition_is_accepted_by_create_state_machine(name, values):
    """CreateStateMachine on moto, through real boto3: the text the deployer sends is accepted as is."""
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name=name,
            definition=asl.render(name, values),
            roleArn=f"arn:aws:iam::{values['AccountId']}:role/sfn",
        )["stateMachineArn"]
        assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])["StartAt"]


def test_the_http_definition_is_accepted_by_the_simulators_create_state_machine(values, tmp_path):
    from sim.aws import AwsSimulator

    with AwsSimulator.start(state_dir=tmp_path) as aws:
        sfn = aws.client("stepfunctions")
        arn = sfn.create_state_machine(
            name="pipeline_http",
            definition=asl.render("pipeline_http", values),
            roleArn=f"arn:aws:iam::{values['AccountId']}:role/sfn",
        )["stateMachineArn"]
        assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])["StartAt"]


def test_a_placeholder_alone_in_a_numeric_field_becomes_a_number(values):
    definition = json.loads(asl.render("pipeline", values | {"PollSeconds": "5"}))
    assert definition["States"]["WaitEtl"]["Seconds"] == 5


def test_a_non_numeric_value_for_a_numeric_field_is_rejected_naming_state_and_field(values):
    with pytest.raises(
        asl.PlaceholderError, match=r"PollSeconds.*state 'WaitEtl', field 'Seconds'.*must be a number"
    ):
        asl.render("pipeline", values | {"PollSeconds": "soon"})


def test_placeholders_inside_text_are_substituted_as_text(values):
    definition = json.loads(asl.render("pipeline", values))
    params = definition["States"]["StartEtl"]["Parameters"]
    assert params["job_id"] == "101"
    assert params["job_parameters"]["processed_root"] == "s3://stepbricks-processed/processed"


def test_missing_placeholder_is_reported_naming_the_state_and_field(values):
    del values["EtlJobId"]
    with pytest.raises(asl.PlaceholderError) as raised:
        asl.render("pipeline", values)
    assert "${EtlJobId}" in str(raised.value)
    assert "state 'StartEtl', field 'Parameters.job_id'" in str(raised.value)


def test_missing_placeholder_inside_a_map_names_the_nested_state(values):
    del values["ValidateFileFunctionArn"]
    with pytest.raises(asl.PlaceholderError, match=r"state 'ValidateItem', field 'Resource'"):
        asl.render("pipeline_map", values)


def test_placeholders_lists_every_use_with_its_location():
    uses = asl.placeholders(asl.load("pipeline"))["PollSeconds"]
    assert Location("WaitEtl", "Seconds") in uses
    assert {loc.state for loc in uses} == {"WaitEtl", "WaitTrain", "WaitEvaluate"}


def test_extra_values_are_ignored_so_one_mapping_serves_every_variant(values):
    assert asl.render("glue_lab", values | {"Unused": "x"})


def test_a_value_that_itself_holds_a_placeholder_never_reaches_aws(values):
    with pytest.raises(asl.PlaceholderError, match=r"\$\{Oops\}"):
        asl.render("pipeline", values | {"ModelName": "${Oops}"})


def test_unknown_definition_name_lists_the_shipped_ones():
    with pytest.raises(asl.DefinitionNotFound, match="pipeline_map"):
        asl.load("pipelin")


def test_glue_lab_is_the_seed_definition_with_only_account_region_and_names_filled(values):
    definition = json.loads(asl.render("glue_lab", values | {"Prefix": "lab-"}))
    assert definition["States"]["ValidateFile"]["Resource"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:lab-file-validation-function"
    )
    assert definition["States"]["WaitForJobCompletion"]["Seconds"] == 30
