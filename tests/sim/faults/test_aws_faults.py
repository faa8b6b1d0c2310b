"""`aws` faults: the nth call of an API operation answers with the error AWS sends, shaped for the
service's protocol, so boto3 (botocore/parsers.py) reports the real error code and HTTP status."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from sim import faults


@pytest.fixture
def plan():
    previous = faults.activate(faults.FaultPlan())
    yield faults.active()
    faults.activate(previous)


def _error(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_second_s3_put_object_is_slow_down_503_and_the_third_succeeds(sim, plan):
    s3 = sim.aws.client("s3", retries={"max_attempts": 0})
    s3.create_bucket(Bucket="fault-bucket")
    plan.add("aws", "s3", detail="PutObject", attempts=2, throttle=True)
    s3.put_object(Bucket="fault-bucket", Key="a", Body=b"1")
    assert _error(lambda: s3.put_object(Bucket="fault-bucket", Key="b", Body=b"2")) == ("SlowDown", 503)
    s3.put_object(Bucket="fault-bucket", Key="c", Body=b"3")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="fault-bucket")["Contents"]) == ["a", "c"]
    assert [(a.target, a.occurrence) for a in plan.applied] == [("aws:s3/PutObject", 2)]


def test_s3_operations_sharing_a_path_are_told_apart(sim, plan):
    s3 = sim.aws.client("s3", retries={"max_attempts": 0})
    s3.create_bucket(Bucket="fault-bucket-2")
    s3.put_object(Bucket="fault-bucket-2", Key="k", Body=b"x")
    plan.add("aws", "s3", detail="GetObject", status=500)
    s3.head_object(Bucket="fault-bucket-2", Key="k")  # HEAD on the same path: not GetObject
    assert _error(lambda: s3.get_object(Bucket="fault-bucket-2", Key="k")) == ("InternalError", 500)


def test_step_functions_throttling_is_a_json_throttling_exception(sim, plan):
    sfn = sim.aws.client("stepfunctions", retries={"max_attempts": 0})
    plan.add("aws", "states", detail="ListStateMachines", attempts="1-2", throttle=True)
    assert _error(sfn.list_state_machines) == ("ThrottlingException", 400)
    assert _error(sfn.list_state_machines) == ("ThrottlingException", 400)
    assert "stateMachines" in sfn.list_state_machines()


def test_sns_throttling_is_the_query_protocols_throttling(sim, plan):
    sns = sim.aws.client("sns", retries={"max_attempts": 0})
    plan.add("aws", "sns", detail="CreateTopic", throttle=True)
    assert _error(lambda: sns.create_topic(Name="t")) == ("Throttling", 400)


def test_lambda_throttling_is_too_many_requests_429(sim, plan, make_function):
    name = make_function("def handler(e, c):\n    return 1\n")
    client = sim.aws.client("lambda", retries={"max_attempts": 0})
    plan.add("aws", "lambda", detail="Invoke", attempts=1, throttle=True)
    assert _error(lambda: client.invoke(FunctionName=name)) == ("TooManyRequestsException", 429)
    assert client.invoke(FunctionName=name)["StatusCode"] == 200


def test_botocore_standard_retries_ride_out_a_throttled_call(sim, plan):
    """The point of the fault: clients with retries on (the default) survive it, visibly."""
    s3 = sim.aws.client("s3", retries={"max_attempts": 3, "mode": "standard"})
    s3.create_bucket(Bucket="fault-bucket-3")
    plan.add("aws", "s3", detail="PutObject", attempts=1, throttle=True)
    response = s3.put_object(Bucket="fault-bucket-3", Key="k", Body=b"x")
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
