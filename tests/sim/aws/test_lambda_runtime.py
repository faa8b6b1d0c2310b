"""The local Lambda runtime, through real boto3 against the running simulator.

Expected shapes come from the Invoke API reference and from awslambdaric (the AWS Python runtime
interface client): `FunctionError: Unhandled`, `{"errorMessage","errorType","stackTrace"}`,
`Runtime.ImportModuleError` with "Unable to import module 'x': ...", and the `Task timed out after
N.NN seconds` log line.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sim.aws import AwsSimulator


def invoke(lambda_client: Any, name: str, payload: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(), **kwargs)
    raw = response["Payload"].read()
    return response, (json.loads(raw) if raw else None)


def test_function_created_from_zip_returns_its_result(lambda_client, make_function):
    name = make_function("""
        def handler(event, context):
            return {"sum": event["a"] + event["b"]}
    """)
    response, payload = invoke(lambda_client, name, {"a": 2, "b": 3})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert payload == {"sum": 5}


def test_handler_can_import_modules_bundled_in_its_zip(lambda_client, make_function):
    name = make_function({
        "app.py": "from helpers.text import shout\ndef handler(event, context):\n    return shout(event['w'])\n",
        "helpers/__init__.py": "",
        "helpers/text.py": "def shout(word):\n    return word.upper() + '!'\n",
    })
    assert invoke(lambda_client, name, {"w": "hi"})[1] == "HI!"


def test_custom_exception_becomes_unhandled_function_error_with_its_error_type(lambda_client, make_function):
    name = make_function("""
        class DatabricksJobFailed(Exception):
            pass

        def handler(event, context):
            raise DatabricksJobFailed("run 42 ended in FAILED")
    """)
    response, payload = invoke(lambda_client, name)
    assert response["StatusCode"] == 200  # function errors still answer 200, as on AWS
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "DatabricksJobFailed"
    assert payload["errorMessage"] == "run 42 ended in FAILED"
    assert any("in handler" in frame for frame in payload["stackTrace"])


def test_timeout_fails_as_on_aws_and_the_environment_is_replaced(aws: AwsSimulator, lambda_client, make_function):
    name = make_function("""
        import time

        def handler(event, context):
            if event.get("sleep"):
                time.sleep(event["sleep"])
            return "done"
    """, timeout=1)
    response, payload = invoke(lambda_client, name, {"sleep": 5})
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Task timed out after 1.00 seconds")
    logs = aws.lambda_logs(name)
    assert any(line.endswith("Task timed out after 1.00 seconds") for line in logs)
    assert any(line.startswith("REPORT") and "Status: timeout" in line for line in logs)

    assert invoke(lambda_client, name)[1] == "done"
    assert sum(line.startswith("INIT_START") for line in aws.lambda_logs(name)) == 2  # a fresh environment


def test_unbundled_import_fails_as_import_module_error(lambda_client, make_function):
    # requests is installed in the project's environment but not in the zip: AWS has no requests.
    name = make_function("""
        import requests

        def handler(event, context):
            return requests.get("http://example.com").status_code
    """)
    response, payload = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == "Unable to import module 'app': No module named 'requests'"


def test_worker_sees_boto3_but_not_the_project_environment(lambda_client, make_function):
    name = make_function("""
        import importlib.util
        import sys

        import boto3

        def handler(event, context):
            return {
                "boto3": boto3.__version__,
                "found": {m: importlib.util.find_spec(m) is not None for m in ("moto", "pyspark", "sim", "pandas")},
                "site_packages": [p for p in sys.path if "site-packages" in p],
            }
    """)
    payload = invoke(lambda_client, name)[1]
    assert payload["boto3"]
    assert payload["found"] == {"moto": False, "pyspark": False, "sim": False, "pandas": False}
    assert payload["site_packages"] == []


def test_handler_sees_its_environment_variables_and_a_lambda_context(aws: AwsSimulator, lambda_client,
                                                                     make_function):
    name = make_function("""
        import os

        KEYS = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_EXECUTION_ENV", "AWS_REGION", "AWS_DEFAULT_REGION",
                "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "PIPELINE_STAGE", "_HANDLER")

        def handler(event, context):
            return {
                "env": {k: os.environ.get(k) for k in KEYS},
                "task_root_has_code": os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py")),
                "leaked": [k for k in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_CURRENT_TEST") if k in os.environ],
                "context": {
                    "aws_request_id": context.aws_request_id,
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "invoked_function_arn": context.invoked_function_arn,
                    "log_group_name": context.log_group_name,
                    "remaining_ms": context.get_remaining_time_in_millis(),
                },
            }
    """, memory=256, timeout=7, env={"PIPELINE_STAGE": "test"})
    payload = invoke(lambda_client, name)[1]
    assert payload["env"] == {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "PIPELINE_STAGE": "test",
        "_HANDLER": "app.handler",
    }
    assert payload["task_root_has_code"] is True
    assert payload["leaked"] == []
    context = payload["context"]
    assert len(context["aws_request_id"]) == 36
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == "256"  # a str in awslambdaric too
    assert context["invoked_function_arn"].endswith(f":function:{name}")
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert 0 < context["remaining_ms"] <= 7000


def test_handler_reaches_the_simulator_with_boto3_and_no_configuration(aws: AwsSimulator, lambda_client,
                                                                         make_function):
    aws.client("s3").create_bucket(Bucket="runtime-boto3-check")
    name = make_function("""
        import boto3

        def handler(event, context):
            boto3.client("s3").put_object(Bucket="runtime-boto3-check", Key="k", Body=b"from lambda")
            return "ok"
    """)
    assert invoke(lambda_client, name)[1] == "ok"
    assert aws.client("s3").get_object(Bucket="runtime-boto3-check", Key="k")["Body"].read() == b"from lambda"


def test_log_result_carries_the_tail_of_the_log_when_asked(lambda_client, make_function):
    name = make_function("""
        def handler(event, context):
            for i in range(event["lines"]):
                print(f"line {i:04d} " + "x" * 40)
            return "ok"
    """)
    response, _ = invoke(lambda_client, name, {"lines": 200}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert len(tail.encode()) <= 4096
    assert "line 0199" in tail and "line 0000" not in tail
    assert tail.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId:")

    response, _ = invoke(lambda_client, name, {"lines": 1})
    assert "LogResult" not in response  # only with LogType=Tail


def test_event_invocation_returns_202_and_runs_asynchronously(aws: AwsSimulator, lambda_client, make_function,
                                                              tmp_path: Path):
    marker = tmp_path / "ran.json"
    name = make_function("""
        import json, os

        def handler(event, context):
            with open(os.environ["MARKER"], "w") as f:
                json.dump(event, f)
    """, env={"MARKER": str(marker)})
    response, payload = invoke(lambda_client, name, {"hello": "event"}, InvocationType="Event")
    assert response["StatusCode"] == 202
    assert payload is None
    assert aws.wait_for_async(timeout_s=20)
    assert json.loads(marker.read_text()) == {"hello": "event"}


def test_reserved_concurrency_of_zero_throttles_every_invocation(lambda_client, make_function):
    name = make_function("def handler(event, context):\n    return 1\n")
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as caught:
        invoke(lambda_client, name)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["Error"]["Message"] == "Rate Exceeded."
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_invocation_beyond_reserved_concurrency_is_throttled_while_the_slot_is_busy(
        aws: AwsSimulator, lambda_client, make_function, tmp_path: Path):
    started, release = tmp_path / "started", tmp_path / "release"
    name = make_function("""
        import os, time

        def handler(event, context):
            open(os.environ["STARTED"], "w").close()
            while not os.path.exists(os.environ["RELEASE"]):
                time.sleep(0.01)
            return "finished"
    """, env={"STARTED": str(started), "RELEASE": str(release)}, timeout=20)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(invoke(lambda_client, name)[1]))
    first.start()
    try:
        assert _wait_for(started.exists, timeout_s=20), "the first invocation never started"
        with pytest.raises(ClientError) as caught:
            invoke(lambda_client, name)
        assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    finally:
        release.touch()
        first.join(timeout=30)
    assert results == ["finished"]
    assert invoke(lambda_client, name)[1] == "finished"  # the slot is free again


def test_cold_start_then_warm_start_are_visible_in_the_logs(aws: AwsSimulator, lambda_client, make_function):
    name = make_function("""
        print("initialising module")

        def handler(event, context):
            print("handling", event["n"])
            return event["n"]
    """)
    assert invoke(lambda_client, name, {"n": 1})[1] == 1
    assert invoke(lambda_client, name, {"n": 2})[1] == 2
    logs = aws.lambda_logs(name)
    assert logs[0].startswith("INIT_START Runtime Version: python:3.11")
    assert logs[1] == "initialising module"
    assert sum(line.startswith("INIT_START") for line in logs) == 1  # the second call was warm
    reports = [line for line in logs if line.startswith("REPORT RequestId:")]
    assert len(reports) == 2
    assert "Init Duration:" in reports[0] and "Init Duration:" not in reports[1]
    for field in ("Duration:", "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:"):
        assert field in reports[1]
    assert [line for line in logs if line.startswith("handling")] == ["handling 1", "handling 2"]


def test_lambda_logs_are_delivered_to_cloudwatch_logs_as_aws_does(aws: AwsSimulator, lambda_client,
                                                                  make_function):
    name = make_function("""
        import logging

        logger = logging.getLogger()

        def handler(event, context):
            logger.warning("careful: %s", event["what"])
            return None
    """)
    assert invoke(lambda_client, name, {"what": "wet floor"})[1] is None
    logs = aws.client("logs")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert len(streams) == 1 and "/[$LATEST]" in streams[0]["logStreamName"]
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]]
    assert any(m.startswith("START RequestId:") for m in messages)
    warning = next(m for m in messages if "careful" in m)
    level, timestamp, request_id, text = warning.split("\t")
    assert (level, text) == ("[WARNING]", "careful: wet floor")
    assert timestamp.endswith("Z") and len(request_id) == 36


def test_lambda_invoke_endpoint_serves_a_raw_unsigned_http_post(aws: AwsSimulator, make_function):
    name = make_function("""
        class Boom(Exception):
            pass

        def handler(event, context):
            if event.get("fail"):
                raise Boom("asked to")
            return {"echo": event}
    """)
    url = f"{aws.lambda_invoke_endpoint}/2015-03-31/functions/{name}/invocations"
    request = urllib.request.Request(url, data=b'{"x": 1}', method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"echo": {"x": 1}}
    request = urllib.request.Request(url, data=b'{"fail": true}', method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["X-Amz-Function-Error"] == "Unhandled"
        assert json.loads(response.read())["errorType"] == "Boom"


def test_updated_code_runs_in_a_new_environment(aws: AwsSimulator, lambda_client, make_function, build_zip):
    name = make_function("def handler(event, context):\n    return 'v1'\n")
    assert invoke(lambda_client, name)[1] == "v1"
    lambda_client.update_function_code(FunctionName=name,
                                       ZipFile=build_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    assert invoke(lambda_client, name)[1] == "v2"
    assert sum(line.startswith("INIT_START") for line in aws.lambda_logs(name)) == 2


def _wait_for(condition, timeout_s: float) -> bool:
    done = threading.Event()
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return True
        done.wait(0.01)
    return condition()


def test_missing_handler_function_fails_as_handler_not_found(lambda_client, make_function):
    name = make_function("def other(event, context):\n    return 1\n")
    response, payload = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.HandlerNotFound"
    assert payload["errorMessage"] == "Handler 'handler' missing on module 'app'"


def test_unserialisable_result_fails_as_marshal_error(lambda_client, make_function):
    name = make_function("def handler(event, context):\n    return {'when': object()}\n")
    response, payload = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"].startswith("Unable to marshal response: Object of type object")
