"""What the managed Python runtime gives a handler besides its own variables, and the response size limit.

Sources: Lambda developer guide, "Using Lambda environment variables" → "Defined runtime environment
variables" (`_HANDLER`, `_X_AMZN_TRACE_ID`, `AWS_EXECUTION_ENV`, `AWS_LAMBDA_*`, `AWS_LAMBDA_RUNTIME_API`,
`AWS_XRAY_CONTEXT_MISSING`, `AWS_XRAY_DAEMON_ADDRESS`, `PATH`, `LANG`, `TZ`); awslambdaric
`update_xray_env_variable` (the trace header is replaced for every invocation); Lambda quotas (a 6 MB
synchronous response; beyond it `Function.ResponseSizeTooLarge`).
"""

from __future__ import annotations

import json
import re
from typing import Any

REPORT_ENV = """
import os

def handler(event, context):
    return {"env": dict(os.environ), "log_stream_name": context.log_stream_name}
"""


def _invoke(lambda_client: Any, name: str, payload: Any = None) -> tuple[dict[str, Any], bytes]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    return response, response["Payload"].read()


def test_handler_sees_the_variables_the_managed_python_runtime_defines(lambda_client, make_function):
    name = make_function(REPORT_ENV, memory=384, handler="app.handler")
    seen = json.loads(_invoke(lambda_client, name)[1])
    env = seen["env"]

    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "384"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == seen["log_stream_name"]
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001"
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "169.254.79.129:2000"
    assert env["PATH"] == "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
    assert (env["LANG"], env["TZ"]) == ("en_US.UTF-8", ":UTC")
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", env["_X_AMZN_TRACE_ID"])


def test_each_invocation_gets_its_own_trace_header(lambda_client, make_function):
    name = make_function(REPORT_ENV)
    first = json.loads(_invoke(lambda_client, name)[1])["env"]["_X_AMZN_TRACE_ID"]
    second = json.loads(_invoke(lambda_client, name)[1])["env"]["_X_AMZN_TRACE_ID"]  # same warm environment
    assert first != second


def test_response_over_6_mb_fails_as_response_size_too_large(lambda_client, make_function):
    name = make_function("def handler(event, context):\n    return 'x' * event['n']\n", memory=512)

    response, raw = _invoke(lambda_client, name, {"n": 6 * 1024 * 1024 + 200})

    assert response["FunctionError"] == "Unhandled"
    assert raw == (b'{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).",'
                   b'"errorType":"Function.ResponseSizeTooLarge"}')
    # Just under the limit is fine.
    response, raw = _invoke(lambda_client, name, {"n": 6 * 1024 * 1024 - 2})
    assert "FunctionError" not in response and len(raw) == 6 * 1024 * 1024
