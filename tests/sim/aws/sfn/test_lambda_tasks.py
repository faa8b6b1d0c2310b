"""Lambda as Step Functions sees it (`sim/aws/moto_seams/sfn_lambda.py`), through boto3 against the simulator.

Sources: the Step Functions developer guide, "Invoke an AWS Lambda function with Step Functions"
(connect-lambda: the function output nested in a dictionary of metadata, Payload parsed from escaped
JSON; a FunctionError fails the task), results and causes recorded on AWS (a `lambda:invoke` result
with `SdkHttpMetadata {AllHttpHeaders, HttpHeaders, HttpStatusCode}`, `SdkResponseMetadata {RequestId}`,
`StatusCode: 200`; a bare-ARN Task's cause with the Python runtime's spacing, a `lambda:invoke` cause
compact), and the 256 KiB payload quota ("Step Functions service quotas": States.DataLimitExceeded).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.sim.aws.sfn.conftest import Run

ECHO = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError(event["fail"])
    if event.get("big"):
        return {"blob": "x" * event["big"]}
    return {"seen": event, "request_id": context.aws_request_id}
"""


def _task(resource: str, parameters: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"Type": "Task", "Resource": resource, "End": True, **fields}
    if parameters is not None:
        task["Parameters"] = parameters
    return {"StartAt": "Call", "States": {"Call": task}}


def _invoke_task(name: str, **fields: Any) -> dict[str, Any]:
    return _task("arn:aws:states:::lambda:invoke", {"FunctionName": name, "Payload.$": "$"}, **fields)


def test_lambda_invoke_result_carries_aws_metadata(run_machine: Callable[..., Run], make_function):
    name = make_function(ECHO)

    run = run_machine(_invoke_task(name), {"batch": 7})

    assert run.status == "SUCCEEDED"
    result = run.output
    assert list(result) == ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]
    assert result["ExecutedVersion"] == "$LATEST"
    assert result["StatusCode"] == 200
    assert result["Payload"]["seen"] == {"batch": 7}
    request_id = result["Payload"]["request_id"]  # Lambda's request id is the invocation's
    assert result["SdkResponseMetadata"] == {"RequestId": request_id}
    http = result["SdkHttpMetadata"]
    assert http["HttpStatusCode"] == 200
    headers = http["HttpHeaders"]
    assert list(headers) == ["Connection", "Content-Length", "Content-Type", "Date", "X-Amz-Executed-Version",
                             "x-amzn-Remapped-Content-Length", "x-amzn-RequestId", "X-Amzn-Trace-Id"]
    assert headers["Connection"] == "keep-alive"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    assert headers["x-amzn-Remapped-Content-Length"] == "0"
    assert headers["x-amzn-RequestId"] == request_id
    assert int(headers["Content-Length"]) == len(json.dumps(result["Payload"]).encode())
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", headers["Date"])
    assert re.fullmatch(r"root=1-[0-9a-f]{8}-[0-9a-f]{24};sampled=0", headers["X-Amzn-Trace-Id"])
    assert http["AllHttpHeaders"] == {key: [value] for key, value in headers.items()}
    succeeded = run.details("TaskSucceeded")[0]
    assert json.loads(succeeded["output"]) == result


def test_result_selector_can_pick_the_metadata_fields(run_machine: Callable[..., Run], make_function):
    name = make_function(ECHO)
    run = run_machine(_invoke_task(name, ResultSelector={"status.$": "$.StatusCode",
                                                         "code.$": "$.SdkHttpMetadata.HttpStatusCode",
                                                         "id.$": "$.SdkResponseMetadata.RequestId",
                                                         "body.$": "$.Payload.seen"}), {"k": 1})
    assert run.status == "SUCCEEDED"
    assert run.output["status"] == 200 and run.output["code"] == 200
    assert run.output["body"] == {"k": 1}
    assert len(run.output["id"]) == 36


def test_bare_function_arn_task_outputs_the_payload_only(aws, run_machine: Callable[..., Run], make_function):
    name = make_function(ECHO)
    arn = aws.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    run = run_machine(_task(arn), {"x": 1})
    assert run.status == "SUCCEEDED"
    assert set(run.output) == {"seen", "request_id"}


def test_bare_function_arn_cause_is_the_runtimes_payload_with_its_spacing(aws, run_machine: Callable[..., Run],
                                                                         make_function):
    name = make_function(ECHO)
    arn = aws.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]

    run = run_machine(_task(arn), {"fail": "bad row"})

    assert run.status == "FAILED"
    failed = run.details("LambdaFunctionFailed")[0]
    assert failed["error"] == "ValueError"
    cause = failed["cause"]
    assert cause.startswith('{"errorMessage": "bad row", "errorType": "ValueError", "requestId": "')
    assert '"stackTrace": ["  File \\"/var/task/app.py\\", line 4, in handler\\n' in cause
    assert run.description["cause"] == cause


def test_lambda_invoke_cause_is_the_payload_reserialised_compactly(run_machine: Callable[..., Run],
                                                                   make_function):
    name = make_function(ECHO)

    run = run_machine(_invoke_task(name), {"fail": "bad row"})

    assert run.status == "FAILED"
    failed = run.details("TaskFailed")[0]
    assert failed["error"] == "ValueError"
    body = json.loads(failed["cause"])
    assert failed["cause"] == json.dumps(body, separators=(",", ":"))
    assert failed["cause"].startswith('{"errorMessage":"bad row","errorType":"ValueError","requestId":"')
    assert body["stackTrace"][0].startswith('  File "/var/task/app.py", line 4, in handler')


def test_result_over_256_kib_fails_lambda_invoke_with_data_limit_exceeded(run_machine: Callable[..., Run],
                                                                           make_function):
    name = make_function(ECHO)

    run = run_machine(_invoke_task(name), {"big": 300 * 1024})

    assert run.status == "FAILED"
    assert run.description["error"] == "States.DataLimitExceeded"
    failed = run.details("TaskFailed")[0]
    assert failed["error"] == "States.DataLimitExceeded"
    assert failed["cause"] == ("The state/task 'Call' returned a result with a size exceeding the maximum number "
                               "of bytes service limit.")


def test_result_over_256_kib_fails_a_bare_arn_task_naming_the_function(aws, run_machine: Callable[..., Run],
                                                                        make_function):
    name = make_function(ECHO)
    arn = aws.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]

    run = run_machine(_task(arn), {"big": 300 * 1024})

    assert run.status == "FAILED"
    failed = run.details("LambdaFunctionFailed")[0]
    assert failed["error"] == "States.DataLimitExceeded"
    assert failed["cause"] == (f"The state/task '{arn}' returned a result with a size exceeding the maximum number "
                               "of bytes service limit.")


def test_result_just_under_256_kib_passes(run_machine: Callable[..., Run], make_function):
    name = make_function(ECHO)
    arn_task = _invoke_task(name, ResultSelector={"n.$": "States.StringToJson('1')"})
    run = run_machine(arn_task, {"big": 250 * 1024})
    assert run.status == "SUCCEEDED"
    assert run.output == {"n": 1}


def test_a_function_out_of_memory_fails_the_state_with_runtime_out_of_memory(run_machine: Callable[..., Run],
                                                                               make_function):
    name = make_function("def handler(event, context):\n    return len([b'x' * 2**20 for _ in range(400)])\n",
                         memory=128, timeout=10)
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": name, "Payload.$": "$"},
                 "Catch": [{"ErrorEquals": ["Runtime.OutOfMemory"], "ResultPath": "$.error", "Next": "Done"}],
                 "End": True},
        "Done": {"Type": "Pass", "End": True},
    }}

    run = run_machine(definition)

    assert run.status == "SUCCEEDED"
    failed = run.details("TaskFailed")[0]
    assert failed["error"] == "Runtime.OutOfMemory"
    request_id = failed["cause"].split("RequestId: ")[1].split(" ")[0]
    assert failed["cause"] == ('{"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: '
                               f'{request_id} Error: Runtime exited with error: signal: killed"}}')
    assert run.output["error"]["Error"] == "Runtime.OutOfMemory"


def test_an_asynchronous_invoke_answers_202_and_an_empty_payload(run_machine: Callable[..., Run], make_function):
    # connect-lambda: "InvocationType": "Event" calls the function asynchronously (Invoke answers 202).
    name = make_function(ECHO)
    run = run_machine(_task("arn:aws:states:::lambda:invoke",
                            {"FunctionName": name, "InvocationType": "Event", "Payload.$": "$"}), {"a": 1})
    assert run.status == "SUCCEEDED"
    assert run.output["StatusCode"] == 202
    assert run.output["SdkHttpMetadata"]["HttpStatusCode"] == 202
    assert run.output["Payload"] == ""
