"""MemorySize is a limit, as on AWS: a function that uses more is killed, and REPORT shows the real peak.

AWS ends an execution environment that goes over its memory with `Runtime.OutOfMemory` ("Runtime exited
with error: signal: killed"), reports `Max Memory Used` equal to the memory size and `Status: error
Error Type: Runtime.OutOfMemory` in the REPORT line (Lambda developer guide, "Monitoring and
troubleshooting Lambda functions" / the `platform.report` Telemetry API record), and starts a fresh
environment for the next event.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sim.aws import AwsSimulator

HOG = """
def handler(event, context):
    blocks = [b"x" * (1024 * 1024) for _ in range(event.get("mb", 0))]
    return len(blocks)
"""


def _invoke(lambda_client: Any, name: str, payload: Any) -> tuple[dict[str, Any], bytes]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return response, response["Payload"].read()


def _reports(aws: AwsSimulator, name: str) -> list[str]:
    return [line for line in aws.lambda_logs(name) if line.startswith("REPORT RequestId:")]


def _max_memory_used(report: str) -> int:
    match = re.search(r"Max Memory Used: (\d+) MB", report)
    assert match, report
    return int(match[1])


def test_function_over_its_memory_size_ends_out_of_memory_as_on_aws(aws: AwsSimulator, lambda_client,
                                                                      make_function):
    name = make_function(HOG, memory=128, timeout=10)

    response, raw = _invoke(lambda_client, name, {"mb": 400})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    request_id = raw.decode().split("RequestId: ")[1].split(" ")[0]
    assert raw.decode() == ('{"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: '
                            f'{request_id} Error: Runtime exited with error: signal: killed"}}')
    report = _reports(aws, name)[-1]
    assert f"REPORT RequestId: {request_id}" in report
    assert "Memory Size: 128 MB\tMax Memory Used: 128 MB" in report
    assert report.endswith("Status: error\tError Type: Runtime.OutOfMemory")

    # The environment is gone: the next event cold-starts a new one and runs normally.
    assert _invoke(lambda_client, name, {"mb": 1})[1] == b"1"
    assert sum(line.startswith("INIT_START") for line in aws.lambda_logs(name)) == 2


def test_report_shows_the_real_peak_memory_of_the_environment(aws: AwsSimulator, lambda_client, make_function):
    name = make_function(HOG, memory=512)

    _invoke(lambda_client, name, {"mb": 0})
    idle = _max_memory_used(_reports(aws, name)[-1])
    assert _invoke(lambda_client, name, {"mb": 150})[1] == b"150"
    peak = _max_memory_used(_reports(aws, name)[-1])

    assert 1 <= idle < 100
    assert idle + 150 <= peak < idle + 200  # the 150 MB the handler held, at its peak
    assert peak <= 512


def test_the_same_function_with_more_memory_size_succeeds(lambda_client, make_function):
    name = make_function(HOG, memory=512, timeout=10)
    response, raw = _invoke(lambda_client, name, {"mb": 200})
    assert "FunctionError" not in response
    assert raw == b"200"


def test_one_huge_allocation_ends_out_of_memory_not_as_a_python_memory_error(aws: AwsSimulator, lambda_client,
                                                                             make_function):
    # On AWS the sandbox's memory limit kills the process; Python never sees a MemoryError.
    name = make_function("def handler(event, context):\n    return len(bytearray(64 * 1024 ** 3))\n", memory=128)
    response, raw = _invoke(lambda_client, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(raw)["errorType"] == "Runtime.OutOfMemory"
    assert "MemoryError" not in "\n".join(aws.lambda_logs(name))
    assert _reports(aws, name)[-1].endswith("Status: error\tError Type: Runtime.OutOfMemory")
