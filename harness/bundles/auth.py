"""Which workspace a target deploys to, and its token, read from AWS Secrets Manager (seed 004).

The seed's CI stage fetches each workspace's PAT from Secrets Manager before calling the CLI; here the
secret's name is the bundle variable `token_secret` (default `stepbricks/${bundle.target}/databricks-token`)
and the AWS endpoint comes from the environment (`AWS_ENDPOINT_URL` locally, none on AWS).
The host: `DATABRICKS_HOST_<TARGET>` (a fake workspace's port is only known at run time), else the
target's `workspace.host`, else `DATABRICKS_HOST`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from harness.bundles.errors import BundleError
from harness.bundles.model import Bundle
from harness.clients import aws_client


@dataclass(frozen=True)
class WorkspaceCredentials:
    host: str
    token: str = field(repr=False)  # never printed

    def client(self) -> Any:
        from databricks.sdk import WorkspaceClient

        return WorkspaceClient(host=self.host, token=self.token, auth_type="pat")


LOCAL_TARGET = "local"
LOCAL_TOKEN_SECRET = f"stepbricks/{LOCAL_TARGET}/databricks-token"  # token_secret's default for the local target
LOCAL_TOKEN_DESCRIPTION = "The local fake workspace's token (stepbricks up)"  # `stepbricks up` stores it there


def host_for(target: str, declared_host: str | None, env: Mapping[str, str]) -> str:
    host = env.get(f"DATABRICKS_HOST_{target.upper()}") or declared_host or env.get("DATABRICKS_HOST")
    if not host:
        fix = ('start the simulator with `stepbricks up` and run `eval "$(stepbricks env)"`'
               if target == LOCAL_TARGET else f"set DATABRICKS_HOST_{target.upper()} or workspace.host in databricks.yml")
        raise BundleError(f"targets.{target}.workspace.host: no workspace for target {target}: {fix}")
    return host.rstrip("/")


def credentials_for(bundle: Bundle, env: Mapping[str, str]) -> WorkspaceCredentials:
    host = host_for(bundle.target.name, bundle.target.host, env)
    secret = bundle.variables.get("token_secret")
    if not secret:
        token = env.get("DATABRICKS_TOKEN")
        if not token:
            raise BundleError(f"target {bundle.target.name}: no token: set the variable token_secret (a Secrets "
                              "Manager secret) or DATABRICKS_TOKEN")  # fmt: skip
        return WorkspaceCredentials(host=host, token=token)
    return WorkspaceCredentials(host=host, token=read_token(str(secret), bundle.target.name, env))


def read_token(secret: str, target: str, env: Mapping[str, str]) -> str:
    sm = aws_client("secretsmanager", env)
    try:
        return sm.get_secret_value(SecretId=secret)["SecretString"]
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        fix = ("start the simulator with `stepbricks up` (it stores the local workspace's token there) and run "
               '`eval "$(stepbricks env)"`' if target == LOCAL_TARGET else
               f"store the workspace's PAT there first: `aws secretsmanager create-secret --name {secret} "
               "--secret-string <PAT>`")
        raise BundleError(f"target {target}: cannot read the workspace token from Secrets Manager secret "
                          f"'{secret}' ({code}): {fix}") from None
