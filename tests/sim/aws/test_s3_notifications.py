"""S3 → Lambda notifications: asynchronous, filtered, with the event record S3 really sends.

Record shape: S3 user guide, "Event message structure" (eventVersion 2.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.aws import AwsSimulator

RECORDER = """
import json, os

def handler(event, context):
    with open(os.path.join(os.environ["OUT_DIR"], context.aws_request_id + ".json"), "w") as f:
        json.dump(event, f)
"""


@pytest.fixture
def recorded_events(tmp_path: Path):
    def read() -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))]

    read.dir = tmp_path  # type: ignore[attr-defined]
    return read


def _notify(aws: AwsSimulator, bucket: str, function_name: str, **filter_rules: str) -> str:
    arn = aws.client("lambda").get_function(FunctionName=function_name)["Configuration"]["FunctionArn"]
    rules = [{"Name": k, "Value": v} for k, v in filter_rules.items()]
    config: dict[str, Any] = {"Id": "raw-upload", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    aws.client("s3").put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [config]})
    return arn


def test_matching_upload_invokes_the_function_with_a_well_formed_s3_event(aws: AwsSimulator, make_function,
                                                                           recorded_events):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="events-raw")
    name = make_function(RECORDER, env={"OUT_DIR": str(recorded_events.dir)})
    _notify(aws, "events-raw", name, prefix="incoming/", suffix=".csv")

    put = s3.put_object(Bucket="events-raw", Key="incoming/batch 1:a.csv", Body=b"customer_id\nC1\n")
    assert aws.wait_for_async(timeout_s=20)

    events = recorded_events()
    assert len(events) == 1
    (record,) = events[0]["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    assert record["s3"]["configurationId"] == "raw-upload"
    assert record["s3"]["bucket"]["name"] == "events-raw"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::events-raw"
    obj = record["s3"]["object"]
    assert obj["key"] == "incoming/batch+1%3Aa.csv"  # form-encoded, "/" kept, as S3 sends keys
    assert obj["size"] == len(b"customer_id\nC1\n")
    assert obj["eTag"] == put["ETag"].strip('"')
    assert len(obj["sequencer"]) >= 16 and int(obj["sequencer"], 16) > 0

    (delivery,) = aws.s3_deliveries("events-raw")
    assert delivery.function_arn.endswith(f":function:{name}")
    assert delivery.attempts == ["success"]


def test_non_matching_upload_does_not_invoke_the_function(aws: AwsSimulator, make_function, recorded_events):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="events-filtered")
    name = make_function(RECORDER, env={"OUT_DIR": str(recorded_events.dir)})
    _notify(aws, "events-filtered", name, prefix="incoming/", suffix=".csv")

    s3.put_object(Bucket="events-filtered", Key="other/file.csv", Body=b"x")
    s3.put_object(Bucket="events-filtered", Key="incoming/file.json", Body=b"x")
    assert aws.wait_for_async(timeout_s=20)

    assert recorded_events() == []
    assert aws.s3_deliveries("events-filtered") == []
    assert aws.lambda_logs(name) == []


def test_put_object_returns_before_a_slow_function_finishes(aws: AwsSimulator, make_function, tmp_path: Path):
    release = tmp_path / "release"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="events-async")
    name = make_function("""
        import os, time

        def handler(event, context):
            while not os.path.exists(os.environ["RELEASE"]):
                time.sleep(0.01)
    """, env={"RELEASE": str(release)}, timeout=30)
    _notify(aws, "events-async", name)

    s3.put_object(Bucket="events-async", Key="a.csv", Body=b"x")  # would block here if synchronous
    (delivery,) = aws.s3_deliveries("events-async")
    assert delivery.done is False
    release.touch()
    assert aws.wait_for_async(timeout_s=20)
    assert delivery.attempts == ["success"]


def test_failing_function_is_retried_twice_as_an_asynchronous_invocation(aws: AwsSimulator, make_function,
                                                                         tmp_path: Path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="events-failing")
    name = make_function("""
        import os

        def handler(event, context):
            with open(os.environ["ATTEMPTS"], "a") as f:
                f.write(context.aws_request_id + "\\n")
            raise RuntimeError("cannot process")
    """, env={"ATTEMPTS": str(tmp_path / "attempts")})
    _notify(aws, "events-failing", name)

    s3.put_object(Bucket="events-failing", Key="bad.csv", Body=b"x")
    assert aws.wait_for_async(timeout_s=20)

    (delivery,) = aws.s3_deliveries("events-failing")
    assert delivery.attempts == ["error", "error", "error"]
    request_ids = (tmp_path / "attempts").read_text().split()
    assert len(request_ids) == 3 and len(set(request_ids)) == 1  # retries keep the request id
