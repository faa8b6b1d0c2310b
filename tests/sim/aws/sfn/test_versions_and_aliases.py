"""State machine revisions, versions and aliases (sim/aws/moto_seams/sfn_versions.py) as the API reference
describes them and as recorded against AWS in LocalStack's test_sfn_api_versioning.snapshot.json and
test_sfn_api_aliasing.snapshot.json (test names cited)."""

from __future__ import annotations

import itertools
import json

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"
_names = itertools.count(1)


def definition(result: int) -> str:
    return json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}})


def refused(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.fixture
def machine(sfn):
    """A new machine with version 1 published at creation."""
    return sfn.create_state_machine(name=f"versions-{next(_names)}", definition=definition(1), roleArn=ROLE,
                                    publish=True, versionDescription="first")["stateMachineArn"]


def test_list_state_machine_versions_lists_newest_first_in_pages(sfn, machine):  # was HTTP 500
    for result in (2, 3):
        sfn.update_state_machine(stateMachineArn=machine, definition=definition(result), publish=True)
    first = sfn.list_state_machine_versions(stateMachineArn=machine, maxResults=2)
    assert [v["stateMachineVersionArn"] for v in first["stateMachineVersions"]] == [f"{machine}:3", f"{machine}:2"]
    second = sfn.list_state_machine_versions(stateMachineArn=machine, nextToken=first["nextToken"])
    assert [v["stateMachineVersionArn"] for v in second["stateMachineVersions"]] == [f"{machine}:1"]
    assert "nextToken" not in second


def test_an_unknown_next_token_is_invalid_token(sfn, machine):
    assert refused(sfn.list_state_machine_versions, stateMachineArn=machine, nextToken="not-a-token") == (
        "InvalidToken", "Invalid Token: 'Invalid token'")


def test_publishing_a_revision_twice_returns_its_version(sfn, machine):  # test_idempotent_publish
    again = sfn.publish_state_machine_version(stateMachineArn=machine)
    assert again["stateMachineVersionArn"] == f"{machine}:1"
    assert len(sfn.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"]) == 1


def test_update_that_changes_the_definition_makes_a_revision_and_publishes_it_once(sfn, machine):
    # test_update_state_machine, test_empty_revision_with_publish_and_publish_on_creation
    changed = sfn.update_state_machine(stateMachineArn=machine, definition=definition(2), publish=True)
    assert changed["stateMachineVersionArn"] == f"{machine}:2" and changed["revisionId"]
    unchanged = sfn.update_state_machine(stateMachineArn=machine, definition=definition(2), publish=True)
    assert unchanged["stateMachineVersionArn"] == f"{machine}:2"
    assert unchanged["revisionId"] == changed["revisionId"]
    described = sfn.describe_state_machine(stateMachineArn=f"{machine}:2")
    assert described["revisionId"] == changed["revisionId"]
    assert json.loads(described["definition"])["States"]["P"]["Result"] == 2


def test_a_version_describes_its_own_arn_description_and_definition(sfn, machine):
    # test_create_publish_describe_with_version_description
    sfn.update_state_machine(stateMachineArn=machine, definition=definition(2))
    version = sfn.describe_state_machine(stateMachineArn=f"{machine}:1")
    assert (version["stateMachineArn"], version["description"]) == (f"{machine}:1", "first")
    assert json.loads(version["definition"])["States"]["P"]["Result"] == 1
    assert version["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert "description" not in sfn.describe_state_machine(stateMachineArn=machine)


def test_publish_with_a_stale_revision_id_is_a_conflict(sfn, machine):
    current = sfn.update_state_machine(stateMachineArn=machine, definition=definition(2))["revisionId"]
    code, message = refused(sfn.publish_state_machine_version, stateMachineArn=machine, revisionId="stale")
    assert code == "ConflictException"
    assert message == (f"Failed to publish the State Machine version for revision stale. "
                       f"The current State Machine revision is {current}.")
    published = sfn.publish_state_machine_version(stateMachineArn=machine, revisionId=current)
    assert published["stateMachineVersionArn"] == f"{machine}:2"


def test_publish_of_a_missing_machine_does_not_exist(sfn, machine):
    # test_publish_state_machine_version_no_such_machine
    missing = machine + "-gone"
    assert refused(sfn.publish_state_machine_version, stateMachineArn=missing) == (
        "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'")


def test_a_version_arn_cannot_be_updated(sfn, machine):  # test_update_state_machine: invalid_arn_1
    assert refused(sfn.update_state_machine, stateMachineArn=f"{machine}:1", definition=definition(9)) == (
        "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{machine}:1'")


def test_update_without_anything_to_change_names_what_is_required(sfn, machine):
    # test_sfn_api.snapshot.json: test_create_update_state_machine_base_update_none
    assert refused(sfn.update_state_machine, stateMachineArn=machine) == (
        "MissingRequiredParameter",
        "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")


def test_deleted_version_numbers_are_not_reused_and_delete_is_idempotent(sfn, machine):
    # test_version_ids_between_deletions, test_list_delete_version
    sfn.update_state_machine(stateMachineArn=machine, definition=definition(2), publish=True)
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{machine}:2")
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{machine}:2")
    republished = sfn.update_state_machine(stateMachineArn=machine, definition=definition(3), publish=True)
    assert republished["stateMachineVersionArn"] == f"{machine}:3"


def test_executions_of_a_version_are_listed_under_the_machine_with_their_version(sfn, machine, wait_for):
    # test_start_version_execution
    execution = sfn.start_execution(stateMachineArn=f"{machine}:1")["executionArn"]
    description = wait_for(sfn, execution)
    assert (description["stateMachineArn"], description["stateMachineVersionArn"]) == (machine, f"{machine}:1")
    [listed] = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert listed["stateMachineVersionArn"] == f"{machine}:1"
    assert [e["executionArn"] for e in sfn.list_executions(stateMachineArn=f"{machine}:1")["executions"]] == [execution]


def test_an_execution_without_a_name_gets_a_fresh_uuid_each_time(sfn, machine):
    first = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    assert first != second and len(first.rsplit(":", 1)[1]) == 36


# -- aliases (test_sfn_api_aliasing.snapshot.json) ------------------------------------------------------------

def test_an_alias_routes_executions_to_its_version(sfn, machine, wait_for):
    sfn.update_state_machine(stateMachineArn=machine, definition=definition(2), publish=True)
    alias = sfn.create_state_machine_alias(name="live", routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:2", "weight": 100}])["stateMachineAliasArn"]
    description = wait_for(sfn, sfn.start_execution(stateMachineArn=alias)["executionArn"])
    assert description["output"] == "2"
    assert (description["stateMachineVersionArn"], description["stateMachineAliasArn"]) == (f"{machine}:2", alias)


def test_creating_an_alias_again_is_idempotent_unless_the_routing_differs(sfn, machine):
    # test_base_create_alias_single_router_config / exception_for_duplicate
    routing = [{"stateMachineVersionArn": f"{machine}:1", "weight": 100}]
    first = sfn.create_state_machine_alias(name="stable", routingConfiguration=routing)
    assert sfn.create_state_machine_alias(name="stable", routingConfiguration=routing)["stateMachineAliasArn"] == \
        first["stateMachineAliasArn"]
    sfn.update_state_machine(stateMachineArn=machine, definition=definition(2), publish=True)
    assert refused(sfn.create_state_machine_alias, name="stable", routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:2", "weight": 100}]) == (
        "ConflictException", "Failed to create alias because an alias with the same name and a different routing "
                              "configuration already exists.")


def test_routing_must_name_distinct_existing_versions_weighing_100(sfn, machine):
    # test_error_create_alias_invalid_router_configs
    sfn.update_state_machine(stateMachineArn=machine, definition=definition(2), publish=True)
    v1, v2 = f"{machine}:1", f"{machine}:2"
    assert refused(sfn.create_state_machine_alias, name="a", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v1, "weight": 50}]) == (
        "ValidationException",
        f"Routing configuration must contain distinct state machine version ARNs. Received: [{v1}, {v1}]")
    assert refused(sfn.create_state_machine_alias, name="a", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 29}]) == (
        "ValidationException", "Sum of routing configuration weights must equal 100. Received: [70, 29]")
    assert refused(sfn.create_state_machine_alias, name="a", routingConfiguration=[
        {"stateMachineVersionArn": machine, "weight": 100}]) == (
        "ValidationException", f"Routing configuration must contain state machine version ARNs. Received: [{machine}]")


def test_a_version_an_alias_routes_to_cannot_be_deleted(sfn, machine):
    # exception_delete_version_with_alias_reference
    sfn.create_state_machine_alias(name="state_machine_alias_name", routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:1", "weight": 100}])
    assert refused(sfn.delete_state_machine_version, stateMachineVersionArn=f"{machine}:1") == (
        "ConflictException", "Version to be deleted must not be referenced by an alias. Current list of aliases "
                              "referencing this version: [state_machine_alias_name]")


def test_updating_a_missing_alias_is_resource_not_found(sfn, machine):  # test_update_no_such_alias_arn
    assert refused(sfn.update_state_machine_alias, stateMachineAliasArn=f"{machine}:nope", description="d") == (
        "ResourceNotFound", "Request references a resource that does not exist.")


def test_deleting_an_alias_twice_succeeds(sfn, machine):  # test_delete_no_such_alias_arn
    alias = sfn.create_state_machine_alias(name="gone", routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:1", "weight": 100}])["stateMachineAliasArn"]
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    assert sfn.list_state_machine_aliases(stateMachineArn=machine)["stateMachineAliases"] == []


def test_describing_a_missing_alias_is_resource_not_found(sfn, machine):
    for arn in (f"{machine}:nope", f"{machine}-gone:nope"):
        assert refused(sfn.describe_state_machine_alias, stateMachineAliasArn=arn) == (
            "ResourceNotFound", "Request references a resource that does not exist.")
