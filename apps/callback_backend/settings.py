"""The backend's configuration, from the environment only (as the seed reads `os.environ`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    databricks_host: str
    databricks_token: str = field(repr=False)
    job_id: int
    prefix: str = "callback-backend"
    role_arn: str = "arn:aws:iam::123456789012:role/callback-backend"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [k for k in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "JOB_ID") if not env.get(k)]
        if missing:
            raise RuntimeError(f"callback backend: set {', '.join(missing)} in the environment")
        return cls(
            databricks_host=env["DATABRICKS_HOST"].rstrip("/"),
            databricks_token=env["DATABRICKS_TOKEN"],
            job_id=int(env["JOB_ID"]),
            prefix=env.get("CALLBACK_PREFIX", cls.prefix),
            role_arn=env.get("CALLBACK_ROLE_ARN", cls.role_arn),
        )
