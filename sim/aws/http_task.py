"""The HTTP Task (`arn:aws:states:::http:invoke`) as the AWS Step Functions developer guide describes it
("Call HTTPS APIs in Step Functions workflows"), without moto: the request an HTTP Task sends, the
EventBridge connection's authorization added to it, and the result or error the state gets.

- Request: `ApiEndpoint` + `QueryParameters`, `Method`, `Headers`, `RequestBody` as compact JSON (or,
  with `Transform.RequestBodyEncoding: URL_ENCODED`, as a form with the `ArrayFormat` INDICES, REPEAT,
  COMMAS or BRACKETS); Step Functions sets `User-Agent: Amazon|StepFunctions|HttpInvoke|<region>` and
  `Range: bytes=0-262144`; the connection's invocation headers, query and body parameters win over the
  definition's. Headers AWS forbids fail the state with States.Runtime.
- Authorization from the connection: API_KEY (the key's header), BASIC, or OAUTH_CLIENT_CREDENTIALS
  (a token fetched from the connection's authorization endpoint with the client credentials, kept for
  the connection and fetched again on a 401, as EventBridge re-authorizes).
- Result: `{"Headers": {name: [values]}, "ResponseBody": parsed JSON or text, "StatusCode", "StatusText"}`;
  a status outside 2xx is the error `States.Http.StatusCode.<code>` (retryable, catchable), a request
  that times out after 60 s `States.Http.Socket`.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx

from sim import clock
from sim import context as sim_context

__all__ = ["Connection", "HttpTaskError", "Request", "build_request", "connection_arn", "connection_from_secret",
           "encode_form", "forbidden_headers", "invoke", "is_http_error_name", "result_of"]

TIMEOUT_S = 60.0  # "HTTP task requests will timeout after 60 seconds."
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")
_FORBIDDEN = {h.lower() for h in (
    "A-IM", "Accept-Charset", "Accept-Datetime", "Accept-Encoding", "Authorization", "Cache-Control", "Connection",
    "Content-Encoding", "Content-MD5", "Date", "Expect", "Forwarded", "From", "Host", "HTTP2-Settings", "If-Match",
    "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards", "Origin", "Pragma",
    "Proxy-Authorization", "Referer", "Server", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Via", "Warning")}
_FORBIDDEN_PREFIXES = ("x-forwarded-", "x-amz-", "x-amzn-")
_UNSUPPORTED_MEDIA = ("application/octet-stream", "image/", "video/", "audio/")


class HttpTaskError(Exception):
    """The error and cause an HTTP Task fails with (its TaskFailed event and what Retry/Catch match)."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def is_http_error_name(name: str) -> bool:
    """`States.Http.StatusCode.<3 digits>` or `States.Http.Socket`: the HTTP Task's own error names."""
    if name == "States.Http.Socket":
        return True
    code = name.removeprefix("States.Http.StatusCode.")
    return code != name and len(code) == 3 and code.isdigit()


def forbidden_headers(headers: Any) -> list[str]:
    """The header names in `headers` an HTTP Task may not set (lower-cased, as AWS lists them)."""
    if not isinstance(headers, dict):
        return []
    return [name.lower() for name in headers
            if name.lower() in _FORBIDDEN or name.lower().startswith(_FORBIDDEN_PREFIXES)]


# -- the connection ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OAuth:
    endpoint: str
    method: str
    client_id: str
    client_secret: str
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    body: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Connection:
    """An EventBridge connection's authorization and invocation parameters (its Secrets Manager secret)."""

    arn: str
    auth_type: str
    api_key: tuple[str, str] | None = None
    basic: tuple[str, str] | None = None
    oauth: OAuth | None = None
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    body: tuple[tuple[str, str], ...] = ()


def _snake(secret: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in secret:
            return secret[name]
    return None


def _pairs(parameters: Any, kind: str) -> tuple[tuple[str, str], ...]:
    items = _snake(parameters or {}, f"{kind}_parameters", f"{kind}Parameters") or []
    return tuple((str(_snake(p, "key", "Key")), str(_snake(p, "value", "Value"))) for p in items)


def connection_from_secret(arn: str, auth_type: str, secret: dict[str, Any]) -> Connection:
    """Read the secret EventBridge keeps for a connection (`events!connection/<name>/...`, snake_case keys)."""
    invocation = _snake(secret, "invocation_http_parameters") or {}
    common = {"headers": _pairs(invocation, "header"), "query": _pairs(invocation, "query_string"),
              "body": _pairs(invocation, "body")}
    if auth_type == "API_KEY":
        return Connection(arn, auth_type, api_key=(str(secret["api_key_name"]), str(secret["api_key_value"])),
                          **common)
    if auth_type == "BASIC":
        return Connection(arn, auth_type, basic=(str(secret["username"]), str(secret["password"])), **common)
    client = _snake(secret, "client_parameters") or {}
    params = _snake(secret, "o_auth_http_parameters", "oauth_http_parameters") or {}
    oauth = OAuth(endpoint=str(secret["authorization_endpoint"]), method=str(secret.get("http_method") or "POST"),
                  client_id=str(_snake(client, "client_id", "client_i_d")),
                  client_secret=str(_snake(client, "client_secret")),
                  headers=_pairs(params, "header"), query=_pairs(params, "query_string"), body=_pairs(params, "body"))
    return Connection(arn, auth_type, oauth=oauth, **common)


# -- the request -------------------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _encode(text: str) -> str:
    return quote(text, safe="")  # RFC 3986: "Monthly%20subscription", "metadata%5Border_details%5D"


def _form_pairs(key: str, value: Any, array_format: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _form_pairs(f"{key}[{name}]" if key else str(name), item, array_format)
    elif isinstance(value, list):
        if array_format == "COMMAS":
            yield key, ",".join(_text(v) for v in value)
            return
        for index, item in enumerate(value):
            inner = {"INDICES": f"{key}[{index}]", "BRACKETS": f"{key}[]", "REPEAT": key}[array_format]
            yield from _form_pairs(inner, item, array_format)
    else:
        yield key, _text(value)


def encode_form(body: dict[str, Any], array_format: str = "INDICES") -> str:
    """A JSON object as `application/x-www-form-urlencoded` text, arrays in one of AWS's four formats."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in _form_pairs("", body, array_format))


def _query_pairs(query: Any) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if isinstance(query, list):
        return [pair for item in query for pair in _query_pairs(item)]
    if isinstance(query, dict):
        pairs = []
        for key, value in query.items():
            values = value if isinstance(value, list) else [value]
            pairs += [(str(key), _text(v)) for v in values]
        return pairs
    raise HttpTaskError("States.Runtime", "The QueryParameters field must be a string, a JSON array or a JSON object")


def _merged(own: list[tuple[str, str]], overrides: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The definition's pairs with the connection's keys replacing theirs (the connection wins)."""
    replaced = {k.lower() for k, _ in overrides}
    return [(k, v) for k, v in own if k.lower() not in replaced] + list(overrides)


def connection_arn(parameters: dict[str, Any]) -> str:
    """The connection an HTTP Task's evaluated parameters name (`InvocationConfig` or `Authentication`)."""
    for holder in ("InvocationConfig", "Authentication"):
        config = parameters.get(holder)
        if isinstance(config, dict) and config.get("ConnectionArn"):
            return str(config["ConnectionArn"])
    raise HttpTaskError("States.Runtime", "The field 'ConnectionArn' is required but was missing")


def build_request(parameters: dict[str, Any], connection: Connection, region: str) -> Request:
    """The request an HTTP Task sends for its evaluated `Parameters`/`Arguments`, before authorization."""
    endpoint = parameters.get("ApiEndpoint")
    method = parameters.get("Method")
    if not isinstance(endpoint, str) or not endpoint:
        raise HttpTaskError("States.Runtime", "The field 'ApiEndpoint' is required but was missing")
    if method not in METHODS:
        raise HttpTaskError("States.Runtime", f"The value of the field 'Method' must be one of {list(METHODS)}")
    headers = parameters.get("Headers") or {}
    if not isinstance(headers, dict):
        raise HttpTaskError("States.Runtime", "The field 'Headers' must be a JSON object")
    bad = forbidden_headers(headers)
    if bad:
        raise HttpTaskError("States.Runtime", f"The 'Headers' field contains unsupported values: [{', '.join(bad)}]")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HttpTaskError("States.Runtime", f"The ApiEndpoint '{endpoint}' is not a valid HTTPS URL")
    query = _merged(parse_qsl(parts.query, keep_blank_values=True) + _query_pairs(parameters.get("QueryParameters")),
                    connection.query)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/",
                      "&".join(f"{_encode(k)}={_encode(v)}" for k, v in query), ""))
    header_pairs = _merged([(str(k), _text(v)) for k, v in headers.items()], connection.headers)
    request = Request(method, url, {k: v for k, v in header_pairs})
    body = parameters.get("RequestBody")
    if connection.body:
        if isinstance(body, str):
            raise HttpTaskError("States.Runtime", "The RequestBody is a string and cannot be merged with the "
                                                  "body parameters of the connection")
        body = {**(body or {}), **dict(connection.body)}
    transform = parameters.get("Transform") or {}
    if body is not None:
        if transform.get("RequestBodyEncoding") == "URL_ENCODED" and isinstance(body, dict):
            array_format = (transform.get("RequestEncodingOptions") or {}).get("ArrayFormat") or "INDICES"
            if array_format not in ARRAY_FORMATS:
                raise HttpTaskError("States.Runtime", f"The ArrayFormat '{array_format}' is not one of "
                                                      f"{list(ARRAY_FORMATS)}")
            request.body = encode_form(body, array_format).encode("utf-8")
        else:
            request.body = (body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))).encode("utf-8")
        if not any(k.lower() == "content-type" for k in request.headers):
            request.headers["Content-Type"] = "application/json; charset=UTF-8"
    request.headers["User-Agent"] = f"Amazon|StepFunctions|HttpInvoke|{region}"
    request.headers["Range"] = "bytes=0-262144"
    return request


# -- authorization -----------------------------------------------------------------------------------

class _Tokens:
    """Connection ARN -> its current OAuth access token, for one simulator."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_connection: dict[str, str] = {}


def _tokens() -> _Tokens:
    return sim_context.current().memo("http-task-oauth-tokens", _Tokens)


def _fetch_token(client: httpx.Client, connection: Connection) -> str:
    """EventBridge's client-credentials grant: POST the form to the authorization endpoint with the client
    id and secret as Basic credentials; the answer's `access_token` is the connection's token."""
    oauth = connection.oauth
    assert oauth is not None
    form = {"grant_type": "client_credentials", **dict(oauth.body)}
    credentials = base64.b64encode(f"{oauth.client_id}:{oauth.client_secret}".encode()).decode()
    try:
        response = client.request(oauth.method, oauth.endpoint, params=list(oauth.query), data=form,
                                  headers={**dict(oauth.headers), "Authorization": f"Basic {credentials}"})
        token = response.json().get("access_token") if response.is_success else None
    except (httpx.HTTPError, ValueError, AttributeError):
        token = None
    if not token:
        raise HttpTaskError("Events.ConnectionResource.InvalidConnectionState",
                            f"The connection {connection.arn} could not be authorized at {oauth.endpoint}")
    tokens = _tokens()
    with tokens.lock:
        tokens.by_connection[connection.arn] = str(token)
    return str(token)


def _authorization(client: httpx.Client, connection: Connection, refresh: bool) -> dict[str, str]:
    if connection.api_key is not None:
        return {connection.api_key[0]: connection.api_key[1]}
    if connection.basic is not None:
        user, password = connection.basic
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    tokens = _tokens()
    with tokens.lock:
        cached = tokens.by_connection.get(connection.arn)
    token = cached if cached is not None and not refresh else _fetch_token(client, connection)
    return {"Authorization": f"Bearer {token}"}


# -- the response ------------------------------------------------------------------------------------

def result_of(status: int, headers: list[tuple[str, str]], content: bytes) -> dict[str, Any]:
    """The HTTP Task's result; raises States.Runtime for a response AWS will not read, and
    `States.Http.StatusCode.<code>` (cause: the result as JSON) for a status outside 2xx."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
    media = (grouped.get("content-type") or [""])[0].split(";")[0].strip().lower()
    if media.startswith(_UNSUPPORTED_MEDIA):
        raise HttpTaskError("States.Runtime", f"The response content-type '{media}' is not supported")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpTaskError("States.Runtime", "The response body cannot be read as a valid string") from None
    body: Any = text
    if media == "application/json" or media.endswith("+json"):
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    try:
        status_text = HTTPStatus(status).phrase
    except ValueError:
        status_text = ""
    result = {"Headers": grouped, "ResponseBody": body, "StatusCode": status, "StatusText": status_text}
    if not 200 <= status < 300:
        raise HttpTaskError(f"States.Http.StatusCode.{status}", json.dumps(result, separators=(",", ":")))
    return result


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _shared_client() -> httpx.Client:
    """One pooled client for every HTTP Task (building one costs more than a loopback request)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
        return _client


def invoke(parameters: dict[str, Any], resolve: Callable[[str], Connection], region: str,
           client: httpx.Client | None = None) -> dict[str, Any]:
    """Run one HTTP Task attempt: resolve its connection, send the request, shape the result."""
    connection = resolve(connection_arn(parameters))
    request = build_request(parameters, connection, region)
    client = client or _shared_client()
    with clock.busy():  # a request in flight is real work: the clock must not skip past it
        for attempt in (0, 1):
            headers = {**request.headers, **_authorization(client, connection, refresh=attempt > 0)}
            try:
                response = client.request(request.method, request.url, headers=headers, content=request.body)
            except httpx.TimeoutException:
                raise HttpTaskError("States.Http.Socket", f"The HTTP request to {request.url} timed out "
                                                          f"after {int(TIMEOUT_S)} seconds") from None
            except httpx.HTTPError as exc:
                raise HttpTaskError("States.Http.Socket", f"The HTTP request to {request.url} failed: "
                                                          f"{exc}") from None
            if response.status_code == 401 and connection.oauth is not None and attempt == 0:
                continue  # EventBridge re-authorizes an OAuth connection on a 401 and tries again
            break
    return result_of(response.status_code, list(response.headers.multi_items()), response.content)
