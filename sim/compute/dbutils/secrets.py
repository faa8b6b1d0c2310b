"""`dbutils.secrets`: reads the workspace's secrets API, like a cluster does, and never shows a value.

The workspace is found through DATABRICKS_HOST / DATABRICKS_TOKEN in the cluster's environment. The
wire calls are those of databricks-sdk's own remote dbutils (dbutils.py `_SecretsUtil`):
GET /api/2.0/secrets/get (value base64), /secrets/list, /secrets/scopes/list. Every value read is
registered with the attempt's log so that printing it shows [REDACTED], as on Databricks.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from sim.compute import context
from sim.compute.dbutils.errors import IllegalArgumentException, SecretsUnavailable

_MISSING = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}

if TYPE_CHECKING:  # the SDK costs 0.8 s to import: a worker pays it when a task lists, not at start
    from databricks.sdk.dbutils import SecretMetadata, SecretScope


def _call(path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    host = os.environ.get("DATABRICKS_HOST", "").rstrip("/")
    if not host:
        raise SecretsUnavailable("dbutils.secrets needs DATABRICKS_HOST in the cluster environment")
    url = f"{host}{path}?{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    token = os.environ.get("DATABRICKS_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        return error.code, body


def _fail(status: int, body: dict[str, Any], what: str) -> SecretsUnavailable:
    # The body's message only: it never holds the token, and the URL is not repeated.
    return SecretsUnavailable(
        f"{what} failed: HTTP {status} {body.get('error_code', '')} {body.get('message', '')}".strip()
    )


class Secrets:
    def getBytes(self, scope: str, key: str) -> bytes:
        status, body = _call("/api/2.0/secrets/get", {"scope": scope, "key": key})
        if status == 200 and "value" in body:
            value = base64.b64decode(body["value"])
            task = context.current()
            if task is not None:
                task.log.add_secret(value.decode("utf-8", errors="replace"))
            return value
        if status in (400, 404) and (body.get("error_code") in _MISSING or status == 404):
            raise IllegalArgumentException(f"Secret does not exist with scope: {scope} and key: {key}")
        raise _fail(status, body, f"dbutils.secrets.get(scope={scope!r}, key={key!r})")

    def get(self, scope: str, key: str) -> str:
        return self.getBytes(scope, key).decode("utf-8")

    def list(self, scope: str) -> list[SecretMetadata]:
        from databricks.sdk.dbutils import SecretMetadata

        status, body = _call("/api/2.0/secrets/list", {"scope": scope})
        if status == 200:
            return [SecretMetadata(item["key"]) for item in body.get("secrets", [])]
        raise _fail(status, body, f"dbutils.secrets.list(scope={scope!r})")

    def listScopes(self) -> list[SecretScope]:
        from databricks.sdk.dbutils import SecretScope

        status, body = _call("/api/2.0/secrets/scopes/list", {})
        if status == 200:
            return [SecretScope(item["name"]) for item in body.get("scopes", [])]
        raise _fail(status, body, "dbutils.secrets.listScopes()")
