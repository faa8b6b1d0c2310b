"""GetExecutionHistory pages as the API reference says: `maxResults` (default 100, at most 1000), `nextToken`,
`reverseOrder` and `includeExecutionData` (sim/aws/moto_seams/sfn_history_pages.py)."""

from __future__ import annotations

import json
import threading

import pytest
from botocore.exceptions import ClientError

from harness.follow import poll_history

ROLE_ARN = "arn:aws:iam::123456789012:role/stepbricks-sfn"


def _chain(states: int) -> dict:
    """`states` Pass states in a row: two events each, plus the execution's start and end."""
    names = [f"S{i}" for i in range(states)]
    return {"StartAt": names[0], "States": {
        name: {"Type": "Pass", "Result": {"step": i}, "ResultPath": f"$.s{i}",
               **({"Next": names[i + 1]} if i + 1 < states else {"End": True})}
        for i, name in enumerate(names)}}


@pytest.fixture(scope="module")
def execution(aws, sfn) -> str:
    """A finished execution of 60 states: 122 events, more than one default page (one for the module)."""
    machine = sfn.create_state_machine(name="history-pages", definition=json.dumps(_chain(60)),
                                       roleArn=ROLE_ARN)["stateMachineArn"]
    arn = aws.start_execution(machine, {"order": 1})
    finished = threading.Event()
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        finished.wait(0.05)
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    return arn


def test_a_history_longer_than_a_page_comes_in_pages_that_join_into_the_whole(sfn, execution):
    first = sfn.get_execution_history(executionArn=execution)
    assert len(first["events"]) == 100 and "nextToken" in first  # AWS's default page

    second = sfn.get_execution_history(executionArn=execution, nextToken=first["nextToken"])

    assert "nextToken" not in second
    events = first["events"] + second["events"]
    assert [e["id"] for e in events] == list(range(1, 123))
    assert events[-1]["type"] == "ExecutionSucceeded"


def test_botocores_paginator_reads_every_page(sfn, execution):
    pages = list(sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, PaginationConfig={"PageSize": 25}))

    assert [len(p["events"]) for p in pages] == [25, 25, 25, 25, 22]
    assert [e["id"] for p in pages for e in p["events"]] == list(range(1, 123))


def test_reverse_order_starts_at_the_newest_event_and_pages_back(sfn, execution):
    first = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=3)
    second = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=3,
                                       nextToken=first["nextToken"])

    assert [e["id"] for e in first["events"] + second["events"]] == [122, 121, 120, 119, 118, 117]
    assert first["events"][0]["type"] == "ExecutionSucceeded"


def test_without_execution_data_the_events_carry_no_input_or_output(sfn, execution):
    events = sfn.get_execution_history(executionArn=execution, includeExecutionData=False,
                                       maxResults=1000)["events"]
    with_data = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]

    started = events[0]["executionStartedEventDetails"]
    assert started["roleArn"] == with_data[0]["executionStartedEventDetails"]["roleArn"]
    data = {"input", "inputDetails", "output", "outputDetails"}
    assert not [e for e in events for k, v in e.items() if k.endswith("EventDetails") and data & set(v)]
    assert [e["type"] for e in events] == [e["type"] for e in with_data]
    assert "input" in with_data[0]["executionStartedEventDetails"]


def test_a_token_that_is_not_one_the_service_gave_is_invalid_token(sfn, execution):
    with pytest.raises(ClientError) as refused:
        sfn.get_execution_history(executionArn=execution, nextToken="not-a-token")

    assert refused.value.response["Error"]["Code"] == "InvalidToken"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_more_than_1000_per_page_is_a_validation_error(sfn, execution):
    with pytest.raises(ClientError) as refused:
        sfn.get_execution_history(executionArn=execution, maxResults=1001)

    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_following_a_history_reads_only_the_events_after_those_it_has(sfn, execution):
    whole = poll_history(sfn, execution)
    seen = whole[:40]

    assert poll_history(sfn, execution, seen) == whole
    assert poll_history(sfn, execution, whole) == whole
