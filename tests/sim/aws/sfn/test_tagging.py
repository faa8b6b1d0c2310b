"""Tagging Step Functions resources (sim/aws/moto_seams/sfn_tags.py): what AWS accepts and refuses, as
recorded in LocalStack's test_sfn_api_tagging.snapshot.json and stated by the API reference."""

from __future__ import annotations

import itertools
import json

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
_names = itertools.count(1)


@pytest.fixture
def machine(sfn):
    return sfn.create_state_machine(name=f"tagging-{next(_names)}", definition=PASS, roleArn=ROLE, publish=True,
                                    tags=[{"key": "team", "value": "data"}])["stateMachineArn"]


def refused(call, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value


def test_repeated_keys_keep_one_tag_and_an_empty_value_is_a_value(sfn, machine):  # test_tag_state_machine
    sfn.tag_resource(resourceArn=machine, tags=[{"key": "key1", "value": "value1"}, {"key": "key1", "value": "value1"},
                                                {"key": "key2", "value": ""}])
    assert sfn.list_tags_for_resource(resourceArn=machine)["tags"] == [
        {"key": "team", "value": "data"}, {"key": "key1", "value": "value1"}, {"key": "key2", "value": ""}]


def test_a_version_arn_cannot_be_tagged(sfn, machine):  # test_tag_state_machine_version
    error = refused(sfn.tag_resource, resourceArn=f"{machine}:1", tags=[{"key": "k", "value": "v"}])
    assert (error.response["Error"]["Code"], error.response["Error"]["Message"]) == (
        "ResourceNotFound", f"Resource not found: '{machine}:1'")


@pytest.mark.parametrize("action", ["tag_resource", "untag_resource", "list_tags_for_resource"])
def test_an_arn_naming_no_resource_is_resource_not_found(sfn, machine, action):
    params = {"tag_resource": {"tags": [{"key": "k", "value": "v"}]}, "untag_resource": {"tagKeys": ["k"]},
              "list_tags_for_resource": {}}[action]
    error = refused(getattr(sfn, action), resourceArn=machine + "-gone", **params)
    assert error.response["Error"]["Code"] == "ResourceNotFound"


def test_more_than_50_tags_on_a_resource_is_too_many_tags_and_tags_nothing(sfn, machine):
    error = refused(sfn.tag_resource, resourceArn=machine, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    assert error.response["Error"]["Code"] == "TooManyTags"
    assert error.response["resourceName"] == machine
    assert sfn.list_tags_for_resource(resourceArn=machine)["tags"] == [{"key": "team", "value": "data"}]
    sfn.tag_resource(resourceArn=machine, tags=[{"key": f"k{i}", "value": "v"} for i in range(49)])  # 50 in all
    assert len(sfn.list_tags_for_resource(resourceArn=machine)["tags"]) == 50


def test_activities_are_taggable(sfn):
    activity = sfn.create_activity(name=f"tagged-activity-{next(_names)}")["activityArn"]
    sfn.tag_resource(resourceArn=activity, tags=[{"key": "k", "value": "v"}])
    sfn.untag_resource(resourceArn=activity, tagKeys=["absent"])
    assert sfn.list_tags_for_resource(resourceArn=activity)["tags"] == [{"key": "k", "value": "v"}]


def test_creating_with_more_than_50_tags_is_too_many_tags(sfn):
    tags = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    error = refused(sfn.create_state_machine, name="over-tagged", definition=PASS, roleArn=ROLE, tags=tags)
    assert error.response["Error"]["Code"] == "TooManyTags"
    assert error.response["resourceName"].endswith(":stateMachine:over-tagged")
    assert refused(sfn.create_activity, name="over-tagged", tags=tags).response["Error"]["Code"] == "TooManyTags"
