"""Clients built from an environment mapping, so one process can talk to several simulators.

boto3 already honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> from os.environ; these helpers read
the same variables from an explicit mapping instead, and fall back to real AWS when none is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config

_SERVICE_ENV = {
    "stepfunctions": "SFN",
    "secretsmanager": "SECRETS_MANAGER",
    "lambda": "LAMBDA",
    "s3": "S3",
    "sns": "SNS",
    "sqs": "SQS",
    "iam": "IAM",
    "sts": "STS",
    "logs": "CLOUDWATCH_LOGS",
    "cloudwatch": "CLOUDWATCH",
    "glue": "GLUE",
    "events": "EVENTBRIDGE",
}


def endpoint_for(service: str, env: Mapping[str, str]) -> str | None:
    specific = env.get(f"AWS_ENDPOINT_URL_{_SERVICE_ENV.get(service, service.upper())}")
    return specific or env.get("AWS_ENDPOINT_URL") or None


def aws_client(service: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
    env = os.environ if env is None else env
    session = boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        region_name=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
    )
    endpoint = endpoint_for(service, env)
    # A local endpoint has no `sync-` host for StartSyncExecution / TestState: send them to the same host.
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=5,
        read_timeout=120,
        inject_host_prefix=endpoint is None,
    )
    return session.client(service, endpoint_url=endpoint, config=config, **kwargs)


def workspace_client(env: Mapping[str, str] | None = None) -> Any:
    """A databricks-sdk WorkspaceClient for DATABRICKS_HOST / DATABRICKS_TOKEN of `env`."""
    from databricks.sdk import WorkspaceClient

    env = os.environ if env is None else env
    return WorkspaceClient(host=env["DATABRICKS_HOST"], token=env["DATABRICKS_TOKEN"], auth_type="pat")
