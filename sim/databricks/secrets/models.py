"""Secret scopes and secrets, persisted; values stored base64 as the API carries them."""

from __future__ import annotations

import base64
import re
import threading
from typing import Any

from sim import clock
from sim.databricks.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from sim.databricks.store import Store

_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class SecretsBackend:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._scopes: dict[str, dict[str, Any]] = {s["name"]: s for s in store.all("secret_scope")}
        self._secrets: dict[tuple[str, str], dict[str, Any]] = {
            (s["scope"], s["key"]): s for s in store.all("secret")
        }

    def create_scope(self, scope: str) -> None:
        if not _SCOPE_NAME.match(scope or ""):
            raise InvalidParameterValue(
                f"Scope name '{scope}' is invalid: it must consist of alphanumeric characters, dashes, "
                "underscores, '@' and periods, and may not exceed 128 characters."
            )
        with self._lock:
            if scope in self._scopes:
                raise ResourceAlreadyExists(f"Scope {scope} already exists!")
            self._scopes[scope] = {"name": scope, "backend_type": "DATABRICKS"}
            self._store.put("secret_scope", scope, self._scopes[scope])

    def list_scopes(self) -> list[dict[str, Any]]:
        return sorted(self._scopes.values(), key=lambda s: s["name"])

    def delete_scope(self, scope: str) -> None:
        with self._lock:
            self._require_scope(scope)
            del self._scopes[scope]
            self._store.delete("secret_scope", scope)
            for key in [k for k in self._secrets if k[0] == scope]:
                del self._secrets[key]
                self._store.delete("secret", f"{key[0]}/{key[1]}")

    def put(self, scope: str, key: str, *, string_value: str | None, bytes_value: str | None) -> None:
        if (string_value is None) == (bytes_value is None):
            raise InvalidParameterValue("Exactly one of string_value or bytes_value must be specified.")
        if not _KEY_NAME.match(key or ""):
            raise InvalidParameterValue(
                f"Invalid secret key name '{key}': it must consist of alphanumeric characters, dashes, "
                "underscores and periods, and may not exceed 128 characters."
            )
        if string_value is not None:
            value = base64.b64encode(string_value.encode()).decode()
        else:
            value = bytes_value or ""
            try:
                base64.b64decode(value, validate=True)
            except ValueError as e:
                raise InvalidParameterValue("bytes_value must be base64-encoded.") from e
        with self._lock:
            self._require_scope(scope)
            doc = {"scope": scope, "key": key, "value": value, "last_updated_timestamp": clock.now_ms()}
            self._secrets[(scope, key)] = doc
            self._store.put("secret", f"{scope}/{key}", doc)

    def get(self, scope: str, key: str) -> dict[str, str]:
        self._require_scope(scope)
        doc = self._secrets.get((scope, key))
        if doc is None:
            raise ResourceDoesNotExist(f"Failed to get secret {key} for scope {scope}.")
        return {"key": key, "value": doc["value"]}

    def list(self, scope: str) -> list[dict[str, Any]]:
        self._require_scope(scope)
        return [
            {"key": d["key"], "last_updated_timestamp": d["last_updated_timestamp"]}
            for (s, _), d in sorted(self._secrets.items())
            if s == scope
        ]

    def delete(self, scope: str, key: str) -> None:
        with self._lock:
            self._require_scope(scope)
            if (scope, key) not in self._secrets:
                raise ResourceDoesNotExist(f"Secret {key} does not exist in scope {scope}.")
            del self._secrets[(scope, key)]
            self._store.delete("secret", f"{scope}/{key}")

    def _require_scope(self, scope: str) -> None:
        if scope not in self._scopes:
            raise ResourceDoesNotExist(f"Scope {scope} does not exist!")
