"""Clients built from an environment mapping, so one process can talk to several simulators.

boto3 already honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> from os.environ; these helpers read
the same variables from an explicit mapping instead, and fall back to real AWS when none is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from botocore.config import Config

from sim import boto_clients

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


def _specific(service: str, env: Mapping[str, str]) -> str | None:
    return env.get(f"AWS_ENDPOINT_URL_{_SERVICE_ENV.get(service, service.upper())}") or None


def _localstack_edge(env: Mapping[str, str]) -> str | None:
    """The edge URL of a LocalStack named the way its users name it (`LOCALSTACK_HOST=host[:port]`)."""
    host = env.get("LOCALSTACK_HOST", "").strip()
    if not host:
        return None
    from localstack_client.config import DEFAULT_EDGE_PORT, parse_localstack_host

    name, port = parse_localstack_host(host if ":" in host else f"{host}:{DEFAULT_EDGE_PORT}")
    return f"{'https' if env.get('USE_SSL') in ('1', 'true') else 'http'}://{name}:{port}"


def endpoint_for(service: str, env: Mapping[str, str]) -> str | None:
    """AWS_ENDPOINT_URL_<SERVICE>, else a LocalStack edge (LOCALSTACK_HOST), else AWS_ENDPOINT_URL."""
    return _specific(service, env) or _localstack_edge(env) or env.get("AWS_ENDPOINT_URL") or None


def aws_client(service: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
    env = os.environ if env is None else env
    region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1"
    endpoint = endpoint_for(service, env)
    if not _specific(service, env) and _localstack_edge(env):
        return _localstack_client(service, env, region, **kwargs)
    # A local endpoint has no `sync-` host for StartSyncExecution / TestState: send them to the same host.
    config = Config(
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=5,
        read_timeout=120,
        inject_host_prefix=endpoint is None,
    )
    return boto_clients.client(
        service,
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        region_name=region,
        endpoint_url=endpoint,
        config=config,
        **kwargs,
    )


def _localstack_client(service: str, env: Mapping[str, str], region: str, **kwargs: Any) -> Any:
    """Through localstack-client's session, as LocalStack users build clients: it resolves the edge from
    LOCALSTACK_HOST (and, like LocalStack's own tools, lets a process-wide AWS_ENDPOINT_URL win)."""
    from localstack_client.session import Session

    session = Session(aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or "test",
                      aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or "test",
                      aws_session_token=env.get("AWS_SESSION_TOKEN"), region_name=region,
                      localstack_host=env["LOCALSTACK_HOST"])  # fmt: skip
    config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=120,
                    inject_host_prefix=False)  # fmt: skip
    return session.client(service, config=config, **kwargs)


def workspace_client(env: Mapping[str, str] | None = None) -> Any:
    """A databricks-sdk WorkspaceClient for DATABRICKS_HOST / DATABRICKS_TOKEN of `env`."""
    from databricks.sdk import WorkspaceClient

    env = os.environ if env is None else env
    return WorkspaceClient(host=env["DATABRICKS_HOST"], token=env["DATABRICKS_TOKEN"], auth_type="pat")
