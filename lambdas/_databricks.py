"""A tiny Databricks Jobs API client over urllib (the Lambda runtime has no `requests`).

Bearer auth with the workspace token from Secrets Manager; every call has a timeout; 429 and 503 are
retried honouring `Retry-After` (as databricks-sdk does, `databricks/sdk/retries.py`), within a
bounded budget so the Lambda never outlives its own timeout; Databricks' `{"error_code", "message"}`
errors become exceptions whose names the state machine can Retry/Catch on. The token never appears
in a log line or an exception message.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdas import _config, _secrets
from lambdas._errors import (
    DatabricksApiError,
    DatabricksAuthError,
    DatabricksNotFound,
    DatabricksRateLimited,
    DatabricksUnavailable,
)

log = logging.getLogger(__name__)

API = "/api/2.2/jobs"
TOKEN_SECRET_ENV = "DATABRICKS_TOKEN_SECRET"
DEFAULT_TOKEN_SECRET = "stepbricks/databricks-token"
_RETRIED = {429: DatabricksRateLimited, 503: DatabricksUnavailable}
# The SDK turns exactly these 400 messages into ResourceDoesNotExist (databricks/sdk/errors/overrides.py).
_DOES_NOT_EXIST = re.compile(r"^(Job|Run) .* does not exist\.?$")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying a 429/503 or a dropped connection before raising."""

    max_attempts: int = 4
    max_delay: float = 30.0  # cap on one Retry-After
    budget: float = 45.0  # total seconds spent waiting, below the functions' 60 s timeout
    fallback_delay: float = 1.0  # when no Retry-After is sent: 1, 2, 4... seconds


class DatabricksClient:
    """The three Jobs API calls the pipeline needs."""

    def __init__(
        self,
        host: str,
        token: Callable[[], str],
        *,
        timeout: float = 20.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        on_auth_failure: Callable[[], None] | None = None,
    ) -> None:
        self.host = normalize_host(host)
        self._token = token
        self._timeout = timeout
        self._retry = retry
        self._sleep = sleep
        self._on_auth_failure = on_auth_failure

    @classmethod
    def from_environment(cls, **kwargs: Any) -> DatabricksClient:
        """Host from DATABRICKS_HOST; token from the Secrets Manager secret DATABRICKS_TOKEN_SECRET."""
        secret_id = _config.optional(TOKEN_SECRET_ENV, DEFAULT_TOKEN_SECRET)
        return cls(
            _config.require("DATABRICKS_HOST"),
            lambda: _secrets.get_secret_string(secret_id).strip(),
            on_auth_failure=_secrets.clear_cache,
            **kwargs,
        )

    # --- the API ----------------------------------------------------------------------------------

    def run_now(
        self, job_id: int, *, job_parameters: Mapping[str, str], idempotency_token: str
    ) -> dict[str, Any]:
        """POST jobs/run-now; a repeated `idempotency_token` returns the run it already started."""
        body = {
            "job_id": job_id,
            "job_parameters": dict(job_parameters),
            "idempotency_token": idempotency_token,
        }
        return self._request("POST", "/run-now", body=body)

    def get_run(self, run_id: int) -> dict[str, Any]:
        return self._request("GET", "/runs/get", query={"run_id": run_id})

    def get_run_output(self, run_id: int) -> dict[str, Any]:
        """GET runs/get-output of a task run (the parent of a multi-task run answers 400)."""
        return self._request("GET", "/runs/get-output", query={"run_id": run_id})

    # --- transport --------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, query: Mapping[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any]:
        what = f"{method} {API}{path}"
        url = f"{self.host}{API}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        waited = 0.0
        refreshed = False
        for attempt in range(1, self._retry.max_attempts + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers(data))
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    return _json(response.read())
            except urllib.error.HTTPError as error:
                payload = _json(error.read(), lenient=True)
                failure = _error_for(what, error.code, payload)
                if isinstance(failure, DatabricksAuthError) and self._on_auth_failure and not refreshed:
                    self._on_auth_failure()  # the token may have been rotated: fetch it once more
                    refreshed = True
                    continue
                if error.code not in _RETRIED:
                    raise failure from None
                delay = self._delay(attempt, error.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                failure = DatabricksUnavailable(f"{what}: no answer from {self.host} ({reason})")
                delay = self._delay(attempt, None)
            if attempt == self._retry.max_attempts or waited + delay > self._retry.budget:
                raise failure
            log.warning("%s: %s; retrying in %.1f s (attempt %d)", what, failure, delay, attempt)
            self._sleep(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _headers(self, data: bytes | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._token()}",
            "Accept": "application/json",
            "User-Agent": "stepbricks-lambda/0.1",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        return headers

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self._retry.max_delay)
            except ValueError:
                pass  # an HTTP-date: Databricks sends seconds; fall back to back-off
        return min(self._retry.fallback_delay * 2 ** (attempt - 1), self._retry.max_delay)


def normalize_host(host: str) -> str:
    host = host.strip().rstrip("/")
    if not re.match(r"^https?://", host):
        host = f"https://{host}"
    return host


def _json(raw: bytes, *, lenient: bool = False) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        if lenient:
            return {"message": raw[:500].decode("utf-8", "replace")}
        raise DatabricksApiError("Databricks answered with a body that is not JSON") from None
    return value if isinstance(value, dict) else {"value": value}


def _error_for(what: str, status: int, payload: Mapping[str, Any]) -> DatabricksApiError:
    code = payload.get("error_code")
    message = str(payload.get("message", "")).strip()
    description = (
        f"{what} failed: HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    )
    kind: type[DatabricksApiError] = DatabricksApiError
    if status in _RETRIED:
        kind = _RETRIED[status]
    elif status in (502, 504):
        kind = DatabricksUnavailable
    elif status in (401, 403):
        kind = DatabricksAuthError
    elif (
        status == 404
        or code == "RESOURCE_DOES_NOT_EXIST"
        or (status == 400 and _DOES_NOT_EXIST.match(message))
    ):
        kind = DatabricksNotFound
    return kind(description, status=status, error_code=str(code) if code is not None else None)
