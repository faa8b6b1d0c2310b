"""`stepbricks doctor`: does each configured endpoint offer what the pipeline needs?

Each check does the real thing the pipeline does (create a bucket and an object, publish to a topic,
create and invoke a Lambda, run a state machine, list Databricks jobs and clusters, talk to MLflow) with
throw-away resources named `stepbricks-doctor-*`, removes them again, and reports one row. It works the
same against the embedded simulator, LocalStack + Step Functions Local, or real AWS and Databricks.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from rich.table import Table

from harness.clients import aws_client, endpoint_for

DOCTOR_PREFIX = "stepbricks-doctor"
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                   "Action": "sts:AssumeRole"}],
}
_HANDLER = "def handler(event, context):\n    return {'doctor': event.get('ping')}\n"


@dataclass(frozen=True)
class CheckResult:
    """One row of the doctor's table. `detail` never carries a secret (only endpoints and error codes)."""

    check: str
    endpoint: str
    ok: bool
    detail: str
    required: bool = True


class CheckFailed(Exception):
    """A check ran and the answer was wrong (not an exception from the client)."""


def diagnose(env: Mapping[str, str], *, timeout_s: float = 60.0) -> list[CheckResult]:
    """Run every check against `env` (the standard variables of docs/contracts.md), in pipeline order."""
    suffix = uuid.uuid4().hex[:8]
    checks: list[tuple[str, str, Callable[[], str]]] = [
        ("credentials (STS)", "sts", lambda: _sts(env)),
        ("S3 buckets CRUD", "s3", lambda: _s3(env, suffix)),
        ("SNS publish", "sns", lambda: _sns(env, suffix)),
        ("SQS send/receive", "sqs", lambda: _sqs(env, suffix)),
        ("Secrets Manager", "secretsmanager", lambda: _secrets(env, suffix)),
        ("IAM roles", "iam", lambda: _iam(env, suffix)),
        ("Lambda create + invoke", "lambda", lambda: _lambda(env, suffix, timeout_s)),
        ("Step Functions create + execute", "stepfunctions", lambda: _stepfunctions(env, suffix, timeout_s)),
        ("Databricks jobs API + a cluster", "databricks", lambda: _databricks(env)),
        ("MLflow tracking", "mlflow", lambda: _mlflow(env)),
    ]
    return [_run(name, _endpoint(service, env), fn) for name, service, fn in checks]


def doctor_table(results: list[CheckResult]) -> Table:
    table = Table(title="stepbricks doctor")
    for column in ("check", "endpoint", "result", "detail"):
        table.add_column(column)
    for r in results:
        verdict = "[green]ok[/green]" if r.ok else ("[red]FAIL[/red]" if r.required else "[yellow]warn[/yellow]")
        table.add_row(r.check, r.endpoint, verdict, r.detail)
    return table


# --- running one check ---------------------------------------------------------------------------------


def _endpoint(service: str, env: Mapping[str, str]) -> str:
    if service == "databricks":
        return env.get("DATABRICKS_HOST") or "(DATABRICKS_HOST unset)"
    if service == "mlflow":
        return env.get("MLFLOW_TRACKING_URI") or "(MLFLOW_TRACKING_URI unset)"
    return endpoint_for(service, env) or "AWS (default endpoint)"


def _run(name: str, endpoint: str, fn: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name, endpoint, True, fn())
    except Exception as exc:  # every failure becomes a row: the table is the point
        return CheckResult(name, endpoint, False, _reason(exc))


def _reason(exc: Exception) -> str:
    """Why, in words a user can act on: unreachable, credentials refused, or the service's own error."""
    if isinstance(exc, EndpointConnectionError):
        return f"unreachable: {exc.kwargs.get('endpoint_url', '')}"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials (set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in ("InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
                    "InvalidAccessKeyId", "ExpiredToken", "AccessDenied", "AccessDeniedException"):
            return f"credentials refused ({code})"
        return f"{exc.operation_name}: {code}: {error.get('Message', '')}".strip()
    if isinstance(exc, BotoCoreError | CheckFailed | KeyError):
        return str(exc)
    text = str(exc)
    if any(sign in text for sign in ("Connection refused", "Failed to establish a new connection",
                                     "Name or service not known", "timed out")):
        return f"unreachable ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text[:300]}"


@contextmanager
def _cleanup() -> Iterator[list[Callable[[], Any]]]:
    """Undo steps run last-first whatever happened; their own failures never hide the check's result."""
    undo: list[Callable[[], Any]] = []
    try:
        yield undo
    finally:
        for step in reversed(undo):
            try:
                step()
            except Exception:  # best effort: a leftover doctor resource is harmless and named as such
                pass


# --- AWS checks ----------------------------------------------------------------------------------------


def _sts(env: Mapping[str, str]) -> str:
    identity = aws_client("sts", env).get_caller_identity()
    return f"account {identity['Account']}"


def _s3(env: Mapping[str, str], suffix: str) -> str:
    s3 = aws_client("s3", env)
    bucket = f"{DOCTOR_PREFIX}-{suffix}"
    region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1"
    with _cleanup() as undo:
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **extra)
        undo.append(lambda: s3.delete_bucket(Bucket=bucket))
        s3.put_object(Bucket=bucket, Key="doctor/ping.txt", Body=b"ping")
        undo.append(lambda: s3.delete_object(Bucket=bucket, Key="doctor/ping.txt"))
        body = s3.get_object(Bucket=bucket, Key="doctor/ping.txt")["Body"].read()
        if body != b"ping":
            raise CheckFailed(f"read back {body[:20]!r}, wrote b'ping'")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="doctor/").get("Contents", [])]
        if keys != ["doctor/ping.txt"]:
            raise CheckFailed(f"listed {keys}, expected ['doctor/ping.txt']")
    return "create, put, get, list, delete"


def _sns(env: Mapping[str, str], suffix: str) -> str:
    sns = aws_client("sns", env)
    with _cleanup() as undo:
        arn = sns.create_topic(Name=f"{DOCTOR_PREFIX}-{suffix}")["TopicArn"]
        undo.append(lambda: sns.delete_topic(TopicArn=arn))
        sns.publish(TopicArn=arn, Subject="stepbricks doctor", Message="ping")
    return "create topic, publish"


def _sqs(env: Mapping[str, str], suffix: str) -> str:
    sqs = aws_client("sqs", env)
    with _cleanup() as undo:
        url = sqs.create_queue(QueueName=f"{DOCTOR_PREFIX}-{suffix}")["QueueUrl"]
        undo.append(lambda: sqs.delete_queue(QueueUrl=url))
        sqs.send_message(QueueUrl=url, MessageBody="ping")
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
        if [m["Body"] for m in messages] != ["ping"]:
            raise CheckFailed(f"received {len(messages)} message(s), expected the one sent")
    return "create queue, send, receive"


def _secrets(env: Mapping[str, str], suffix: str) -> str:
    sm = aws_client("secretsmanager", env)
    name = f"{DOCTOR_PREFIX}/{suffix}"
    value = uuid.uuid4().hex  # a throw-away value, compared but never printed
    with _cleanup() as undo:
        sm.create_secret(Name=name, SecretString=value)
        undo.append(lambda: sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True))
        if sm.get_secret_value(SecretId=name)["SecretString"] != value:
            raise CheckFailed("the secret read back differs from the one stored")
    return "create, read, delete"


def _iam(env: Mapping[str, str], suffix: str) -> str:
    iam = aws_client("iam", env)
    with _cleanup() as undo:
        _role(iam, suffix, undo)
    return "create role, delete role"


def _role(iam: Any, suffix: str, undo: list[Callable[[], Any]]) -> str:
    name = f"{DOCTOR_PREFIX}-{suffix}-{uuid.uuid4().hex[:4]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"]
    undo.append(lambda: iam.delete_role(RoleName=name))
    return arn


def _lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("doctor.py", _HANDLER)
    return buffer.getvalue()


def _lambda(env: Mapping[str, str], suffix: str, timeout_s: float) -> str:
    iam, lam = aws_client("iam", env), aws_client("lambda", env)
    name = f"{DOCTOR_PREFIX}-{suffix}"
    with _cleanup() as undo:
        role = _role(iam, suffix, undo)
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="doctor.handler",
                            Code={"ZipFile": _lambda_zip()}, Timeout=30)
        undo.append(lambda: lam.delete_function(FunctionName=name))
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1,
                                                                                    "MaxAttempts": int(timeout_s)})
        response = lam.invoke(FunctionName=name, Payload=json.dumps({"ping": suffix}).encode())
        payload = response["Payload"].read().decode("utf-8", "replace")
        if response.get("FunctionError") or json.loads(payload or "null") != {"doctor": suffix}:
            raise CheckFailed(f"invoke returned {response.get('FunctionError') or 'no error'}: {payload[:200]}")
    return "create function, invoke (a real handler ran)"


def _stepfunctions(env: Mapping[str, str], suffix: str, timeout_s: float) -> str:
    iam, sfn = aws_client("iam", env), aws_client("stepfunctions", env)
    definition = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Result": {"doctor": suffix}, "End": True}}}
    with _cleanup() as undo:
        role = _role(iam, suffix, undo)
        arn = sfn.create_state_machine(name=f"{DOCTOR_PREFIX}-{suffix}", definition=json.dumps(definition),
                                       roleArn=role)["stateMachineArn"]
        undo.append(lambda: sfn.delete_state_machine(stateMachineArn=arn))
        # Always named: moto's server gives unnamed executions the same ARN (sfn-engines.md).
        execution = sfn.start_execution(stateMachineArn=arn, name=f"doctor-{suffix}", input="{}")["executionArn"]
        deadline = time.monotonic() + timeout_s
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise CheckFailed(f"execution still RUNNING after {timeout_s:.0f} s")
            time.sleep(0.2)
        if described["status"] != "SUCCEEDED" or json.loads(described.get("output") or "null") != {"doctor": suffix}:
            raise CheckFailed(f"execution {described['status']}, output {described.get('output')}")
    return "create state machine, execute (SUCCEEDED)"


# --- Databricks and MLflow -----------------------------------------------------------------------------


def _databricks(env: Mapping[str, str]) -> str:
    missing = [v for v in ("DATABRICKS_HOST", "DATABRICKS_TOKEN") if not env.get(v)]
    if missing:
        raise CheckFailed(f"{' and '.join(missing)} not set")
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    # Short retry and HTTP timeouts: the SDK would otherwise retry an unreachable host for 5 minutes.
    w = WorkspaceClient(config=Config(host=env["DATABRICKS_HOST"], token=env["DATABRICKS_TOKEN"], auth_type="pat",
                                      retry_timeout_seconds=15, http_timeout_seconds=15))
    jobs = list(w.jobs.list(limit=25))
    clusters = list(w.clusters.list())
    if not clusters:
        raise CheckFailed("jobs API answers, but the workspace has no all-purpose cluster for the jobs")
    states = ", ".join(sorted({str(c.state.value if c.state else "?") for c in clusters}))
    return f"jobs API ({len(jobs)} job(s)), {len(clusters)} cluster(s): {states}"


def _mlflow(env: Mapping[str, str]) -> str:
    uri = env.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise CheckFailed("MLFLOW_TRACKING_URI not set")
    from mlflow.tracking import MlflowClient

    from sim.simulator import patched_environ

    # MLflow retries an unreachable server with back-off for minutes; one quick try says enough here.
    with patched_environ({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}):
        experiments = MlflowClient(tracking_uri=uri).search_experiments(max_results=5)
    return f"tracking answers ({len(experiments)} experiment(s) listed)"
