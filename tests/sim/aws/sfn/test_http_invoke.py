"""The HTTP Task (`arn:aws:states:::http:invoke`, sim/aws/moto_seams/sfn_http.py) through boto3: real requests
to a real HTTP server on the loopback, authorized by EventBridge connections, with AWS's result shape and
errors, Retry and Catch."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from sim import faults

HTTP = "arn:aws:states:::http:invoke"
_names = itertools.count(1)


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Target:
    """A loopback HTTP server: records every request; answers from `script[path]` (status, headers, body)
    in order, then 200 with a JSON echo."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    tokens_issued: int = 0

    def answer(self, path: str, *responses: tuple[int, dict[str, str], bytes]) -> None:
        self.script.setdefault(path, []).extend(responses)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    state = Target(url="")

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = Seen(self.command, parts.path, parse_qsl(parts.query, keep_blank_values=True),
                        {k.lower(): v for k, v in self.headers.items()}, body)
            state.seen.append(seen)
            if parts.path == "/oauth/token":
                state.tokens_issued += 1
                status, headers, payload = 200, {"Content-Type": "application/json"}, json.dumps(
                    {"access_token": f"token-{state.tokens_issued}", "token_type": "Bearer"}).encode()
            elif state.script.get(parts.path):
                status, headers, payload = state.script[parts.path].pop(0)
            else:
                status, headers = 200, {"Content-Type": "application/json", "X-Trace": "a"}
                payload = json.dumps({"path": parts.path, "method": self.command}).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def events(aws) -> Any:
    return aws.client("events")


def _connection(events: Any, auth_type: str, auth: dict[str, Any]) -> str:
    return events.create_connection(Name=f"conn-{next(_names)}", AuthorizationType=auth_type,
                                    AuthParameters=auth)["ConnectionArn"]


@pytest.fixture(scope="module")
def api_key(events) -> str:
    return _connection(events, "API_KEY", {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key",
                                                                     "ApiKeyValue": "secret-key"}})


def _task(parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": HTTP, "Parameters": parameters,
                                                   "End": True, **extra}}}


def _call(target: Target, connection: str, path: str = "/items", method: str = "GET", **more: Any) -> dict:
    return {"ApiEndpoint": f"{target.url}{path}", "Method": method, "Authentication": {"ConnectionArn": connection},
            **more}


def test_result_has_aws_shape_with_header_lists_and_parsed_json(run_machine, target, api_key):
    run = run_machine(_task(_call(target, api_key, "/shape")))
    assert run.status == "SUCCEEDED"
    result = run.output
    assert set(result) == {"Headers", "ResponseBody", "StatusCode", "StatusText"}
    assert (result["StatusCode"], result["StatusText"]) == (200, "OK")
    assert result["ResponseBody"] == {"path": "/shape", "method": "GET"}
    assert result["Headers"]["x-trace"] == ["a"] and result["Headers"]["content-type"] == ["application/json"]
    scheduled = run.details("TaskScheduled")[0]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("http", "invoke")
    assert run.types()[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]


def test_request_carries_method_query_headers_json_body_and_step_functions_headers(run_machine, target, api_key):
    target.seen.clear()
    run = run_machine(_task(_call(target, api_key, "/orders?fixed=1", "POST",
                                  Headers={"X-Request-Id": "r-1"}, QueryParameters={"currency": "usd", "tag": ["a", "b"]},
                                  **{"RequestBody": {"id.$": "$.id", "note": "two words"}})), {"id": 7})
    assert run.status == "SUCCEEDED"
    seen = target.seen[-1]
    assert (seen.method, seen.path) == ("POST", "/orders")
    assert seen.query == [("fixed", "1"), ("currency", "usd"), ("tag", "a"), ("tag", "b")]
    assert seen.headers["x-request-id"] == "r-1"
    assert seen.headers["content-type"] == "application/json; charset=UTF-8"
    assert seen.headers["user-agent"] == "Amazon|StepFunctions|HttpInvoke|us-east-1"
    assert seen.headers["range"] == "bytes=0-262144"
    assert seen.body == b'{"id":7,"note":"two words"}'


def test_api_key_connection_adds_its_header_and_its_invocation_parameters_win(run_machine, events, target):
    connection = _connection(events, "API_KEY", {
        "ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": "Bearer dapi-123"},
        "InvocationHttpParameters": {
            "HeaderParameters": [{"Key": "Header-Param", "Value": "from-connection", "IsValueSecret": False}],
            "QueryStringParameters": [{"Key": "QueryParam", "Value": "from-connection", "IsValueSecret": False}],
            "BodyParameters": [{"Key": "BodyParam", "Value": "from-connection", "IsValueSecret": False}]}})
    target.seen.clear()
    run = run_machine(_task(_call(target, connection, "/merge", "POST",
                                  Headers={"Header-Param": "from-task", "Request-Id": "r"},
                                  QueryParameters={"QueryParam": "from-task"},
                                  RequestBody={"Job": "Engineer", "BodyParam": "from-task"})))
    assert run.status == "SUCCEEDED"
    seen = target.seen[-1]
    assert seen.headers["authorization"] == "Bearer dapi-123"
    assert (seen.headers["header-param"], seen.headers["request-id"]) == ("from-connection", "r")
    assert seen.query == [("QueryParam", "from-connection")]
    assert json.loads(seen.body) == {"Job": "Engineer", "BodyParam": "from-connection"}


def test_basic_connection_sends_basic_credentials(run_machine, events, target):
    connection = _connection(events, "BASIC", {"BasicAuthParameters": {"Username": "ann", "Password": "pw"}})
    target.seen.clear()
    assert run_machine(_task(_call(target, connection, "/basic"))).status == "SUCCEEDED"
    assert target.seen[-1].headers["authorization"] == "Basic " + base64.b64encode(b"ann:pw").decode()


def test_oauth_connection_fetches_a_token_with_client_credentials_and_refreshes_it_on_401(
        run_machine, events, target):
    connection = _connection(events, "OAUTH_CLIENT_CREDENTIALS", {"OAuthParameters": {
        "ClientParameters": {"ClientID": "client-1", "ClientSecret": "s3cret"},
        "AuthorizationEndpoint": f"{target.url}/oauth/token", "HttpMethod": "POST",
        "OAuthHttpParameters": {"BodyParameters": [{"Key": "scope", "Value": "all-apis", "IsValueSecret": False}]}}})
    target.seen.clear()
    assert run_machine(_task(_call(target, connection, "/oauth-1"))).status == "SUCCEEDED"
    token_request, call = target.seen[-2], target.seen[-1]
    assert (token_request.method, token_request.path) == ("POST", "/oauth/token")
    assert token_request.headers["authorization"] == "Basic " + base64.b64encode(b"client-1:s3cret").decode()
    assert dict(parse_qsl(token_request.body.decode())) == {"grant_type": "client_credentials", "scope": "all-apis"}
    issued = call.headers["authorization"]
    assert issued.startswith("Bearer token-")

    target.seen.clear()
    target.answer("/oauth-2", (401, {"Content-Type": "application/json"}, b'{"error":"expired"}'))
    assert run_machine(_task(_call(target, connection, "/oauth-2"))).status == "SUCCEEDED"
    assert [s.path for s in target.seen] == ["/oauth-2", "/oauth/token", "/oauth-2"]
    assert target.seen[0].headers["authorization"] == issued  # the cached token first
    assert target.seen[-1].headers["authorization"] != issued


@pytest.mark.parametrize(("array_format", "expected"), [
    ("INDICES", "tags%5B0%5D=a&tags%5B1%5D=b"),
    ("REPEAT", "tags=a&tags=b"),
    ("COMMAS", "tags=a%2Cb"),
    ("BRACKETS", "tags%5B%5D=a&tags%5B%5D=b"),
])
def test_url_encoded_transform_encodes_the_body_as_a_form(run_machine, target, api_key, array_format, expected):
    target.seen.clear()
    run = run_machine(_task(_call(
        target, api_key, "/form", "POST", Headers={"Content-Type": "application/x-www-form-urlencoded"},
        RequestBody={"description": "Monthly subscription", "metadata": {"order_details": "report"},
                     "tags": ["a", "b"]},
        Transform={"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": array_format}})))
    assert run.status == "SUCCEEDED"
    seen = target.seen[-1]
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.body.decode() == f"description=Monthly%20subscription&metadata%5Border_details%5D=report&{expected}"


def test_not_found_fails_with_states_http_status_code_404_and_is_caught(run_machine, target, api_key):
    target.answer("/missing", (404, {"Content-Type": "application/json"}, b'{"message":"no such item"}'))
    definition = _task(_call(target, api_key, "/missing"), Catch=[
        {"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.error", "Next": "Handled"}])
    definition["States"]["Handled"] = {"Type": "Pass", "End": True}
    run = run_machine(definition)
    assert run.status == "SUCCEEDED"
    assert run.output["error"]["Error"] == "States.Http.StatusCode.404"
    cause = json.loads(run.output["error"]["Cause"])
    assert (cause["StatusCode"], cause["StatusText"], cause["ResponseBody"]) == (404, "Not Found",
                                                                               {"message": "no such item"})
    failed = run.details("TaskFailed")[0]
    assert (failed["error"], failed["resourceType"], failed["resource"]) == ("States.Http.StatusCode.404", "http",
                                                                             "invoke")


def test_an_uncaught_status_fails_the_execution_with_that_error(run_machine, target, api_key):
    target.answer("/broken", (500, {"Content-Type": "text/plain"}, b"boom"))
    run = run_machine(_task(_call(target, api_key, "/broken")))
    assert (run.status, run.description["error"]) == ("FAILED", "States.Http.StatusCode.500")
    assert json.loads(run.description["cause"])["ResponseBody"] == "boom"


def test_throttling_is_retried_until_the_api_answers(run_machine, target, api_key):
    target.answer("/busy", (429, {"Content-Type": "application/json"}, b"{}"),
                  (503, {"Content-Type": "application/json"}, b"{}"))
    run = run_machine(_task(_call(target, api_key, "/busy"), Retry=[{
        "ErrorEquals": ["States.Http.StatusCode.429", "States.Http.StatusCode.503"], "IntervalSeconds": 1,
        "MaxAttempts": 3, "BackoffRate": 1}]))
    assert run.status == "SUCCEEDED"
    assert [d["error"] for d in run.details("TaskFailed")] == ["States.Http.StatusCode.429",
                                                                "States.Http.StatusCode.503"]
    assert run.output["StatusCode"] == 200


def test_forbidden_header_from_the_input_fails_with_states_runtime(run_machine, target, api_key):
    run = run_machine(_task(_call(target, api_key, "/h", **{"Headers.$": "$.headers"})),
                      {"headers": {"Authorization": "Bearer mine"}})
    assert (run.status, run.description["error"]) == ("FAILED", "States.Runtime")
    assert "[authorization]" in run.description["cause"]


def test_unknown_connection_fails_with_eventbridge_connection_error(run_machine, target):
    missing = "arn:aws:events:us-east-1:123456789012:connection/nope/00000000-0000-0000-0000-000000000000"
    run = run_machine(_task(_call(target, missing, "/x")))
    assert (run.status, run.description["error"]) == ("FAILED", "Events.ConnectionResource.ResourceNotFound")


def test_jsonata_arguments_call_the_api_too(run_machine, target, api_key):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": HTTP, "End": True, "Output": "{% $states.result.ResponseBody %}",
        "Arguments": {"ApiEndpoint": "{% '" + target.url + "/items/' & $states.input.id %}", "Method": "GET",
                      "InvocationConfig": {"ConnectionArn": api_key}}}}}
    run = run_machine(definition, {"id": "42"})
    assert (run.status, run.output) == ("SUCCEEDED", {"path": "/items/42", "method": "GET"})


def test_a_state_fault_replaces_the_call(run_machine, target, api_key):
    plan = faults.FaultPlan()
    plan.add("state", "*", detail="Call", attempts="1", error={"Error": "States.Http.StatusCode.503",
                                                               "Cause": "injected"})
    target.seen.clear()
    previous = faults.activate(plan)
    try:
        run = run_machine(_task(_call(target, api_key, "/faulted"), Retry=[
            {"ErrorEquals": ["States.Http.StatusCode.503"], "IntervalSeconds": 1, "MaxAttempts": 1}]))
    finally:
        faults.activate(previous)
    assert run.status == "SUCCEEDED"
    assert [d["error"] for d in run.details("TaskFailed")] == ["States.Http.StatusCode.503"]
    assert [s.path for s in target.seen] == ["/faulted"]  # only the second attempt reached the API


@pytest.mark.parametrize(("parameters", "message"), [
    ({"Method": "GET", "Authentication": {"ConnectionArn": "arn"}}, "The field 'ApiEndpoint' is required"),
    ({"ApiEndpoint": "https://x", "Authentication": {"ConnectionArn": "arn"}}, "The field 'Method' is required"),
    ({"ApiEndpoint": "https://x", "Method": "GET"}, "The field 'ConnectionArn' is required"),
    ({"ApiEndpoint": "https://x", "Method": "GET", "Authentication": {}}, "The field 'ConnectionArn' is required"),
    ({"ApiEndpoint": "https://x", "Method": "GET", "Authentication": {"ConnectionArn": "arn"},
      "Headers": {"Authorization": "x"}}, "The 'Headers' field contains unsupported values: [authorization]"),
])
def test_create_state_machine_refuses_an_incomplete_http_task_naming_state_and_field(sfn, create_machine,
                                                                                      parameters, message):
    with pytest.raises(sfn.exceptions.InvalidDefinition) as refused:
        create_machine(_task(parameters))
    text = refused.value.response["Error"]["Message"]
    assert message in text and "/States/Call/Parameters" in text


def test_update_connection_rotates_the_key_in_its_secret_and_the_next_call_sends_it(aws, run_machine, events,
                                                                                    target):
    name = f"rotating-{next(_names)}"
    arn = events.create_connection(Name=name, AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": "Bearer old"}})["ConnectionArn"]
    events.update_connection(Name=name, AuthParameters={"ApiKeyAuthParameters": {"ApiKeyValue": "Bearer new"}})
    secret_arn = events.describe_connection(Name=name)["SecretArn"]
    assert json.loads(aws.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]) == {
        "api_key_name": "Authorization", "api_key_value": "Bearer new"}
    target.seen.clear()
    assert run_machine(_task(_call(target, arn, "/rotated"))).status == "SUCCEEDED"
    assert target.seen[-1].headers["authorization"] == "Bearer new"


def test_test_state_runs_an_http_task_and_reports_a_caught_status(aws, target, api_key):
    sfn = aws.client("stepfunctions", inject_host_prefix=False)
    state = {"Type": "Task", "Resource": HTTP, "Parameters": _call(target, api_key, "/tested"), "End": True}
    answer = sfn.test_state(definition=json.dumps(state), roleArn="arn:aws:iam::123456789012:role/t", input="{}")
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"])["ResponseBody"] == {"path": "/tested", "method": "GET"}

    target.answer("/gone", (410, {"Content-Type": "application/json"}, b"{}"))
    state = {**state, "Parameters": _call(target, api_key, "/gone"),
             "Catch": [{"ErrorEquals": ["States.Http.StatusCode.410"], "Next": "Gone"}]}
    answer = sfn.test_state(definition=json.dumps(state), roleArn="arn:aws:iam::123456789012:role/t", input="{}")
    assert (answer["status"], answer["error"], answer["nextState"]) == ("CAUGHT_ERROR", "States.Http.StatusCode.410",
                                                                        "Gone")
