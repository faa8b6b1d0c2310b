"""The HTTP Task's request and result rules (sim/aws/http_task.py), without a state machine."""

from __future__ import annotations

import json

import pytest

from sim.aws.http_task import (
    Connection,
    HttpTaskError,
    build_request,
    encode_form,
    is_http_error_name,
    result_of,
)

CONNECTION = Connection("arn:aws:events:us-east-1:123456789012:connection/c/1", "API_KEY", api_key=("k", "v"))


def test_form_encoding_follows_the_developer_guide_example():
    body = {"customer": "1234567890", "description": "Monthly subscription",
            "metadata": {"order_details": "monthly report data"}}
    assert encode_form(body) == ("customer=1234567890&description=Monthly%20subscription"
                                 "&metadata%5Border_details%5D=monthly%20report%20data")


def test_form_encoding_of_nested_arrays_and_scalars():
    assert encode_form({"a": [{"b": 1}, {"b": True}], "n": None}) == "a%5B0%5D%5Bb%5D=1&a%5B1%5D%5Bb%5D=true&n="


@pytest.mark.parametrize(("name", "ok"), [("States.Http.StatusCode.404", True), ("States.Http.Socket", True),
                                          ("States.Http.StatusCode.4XX", False), ("States.Http.Other", False)])
def test_http_error_names(name, ok):
    assert is_http_error_name(name) is ok


def test_a_string_body_cannot_merge_with_connection_body_parameters():
    connection = Connection(CONNECTION.arn, "API_KEY", api_key=("k", "v"), body=(("p", "1"),))
    with pytest.raises(HttpTaskError) as failed:
        build_request({"ApiEndpoint": "https://x", "Method": "POST", "RequestBody": "raw"}, connection, "us-east-1")
    assert failed.value.error == "States.Runtime"


@pytest.mark.parametrize("media", ["application/octet-stream", "image/png", "audio/mpeg", "video/mp4"])
def test_binary_responses_fail_with_states_runtime(media):
    with pytest.raises(HttpTaskError) as failed:
        result_of(200, [("Content-Type", media)], b"\x00\x01")
    assert failed.value.error == "States.Runtime"


def test_non_2xx_error_carries_the_result_as_its_cause():
    with pytest.raises(HttpTaskError) as failed:
        result_of(429, [("Content-Type", "application/json"), ("Retry-After", "1")], b'{"error_code":"x"}')
    assert failed.value.error == "States.Http.StatusCode.429"
    assert json.loads(failed.value.cause) == {"Headers": {"content-type": ["application/json"], "retry-after": ["1"]},
                                              "ResponseBody": {"error_code": "x"}, "StatusCode": 429,
                                              "StatusText": "Too Many Requests"}
