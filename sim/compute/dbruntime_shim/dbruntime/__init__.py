"""Shim of Databricks' private `dbruntime` module, present only on stepbricks cluster workers.

databricks-sdk (runtime/__init__.py, pinned >=0.156,<0.163) does
`from dbruntime import UserNamespaceInitializer` and then
`UserNamespaceInitializer.getOrCreate().get_namespace_globals()`, copying `spark`, `dbutils`, `display`,
… from that dict. Answering it makes `from databricks.sdk.runtime import dbutils, spark` return the
cluster's own objects instead of the SDK's remote dbutils (which needs a real workspace).
"""

from __future__ import annotations

from typing import Any


class UserNamespaceInitializer:
    _instance: UserNamespaceInitializer | None = None

    @classmethod
    def getOrCreate(cls) -> UserNamespaceInitializer:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def get_namespace_globals(self) -> dict[str, Any]:
        from sim.compute import runtime

        return runtime.namespace_globals()
