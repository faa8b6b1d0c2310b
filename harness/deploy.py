"""Deploys the reference pipeline to whatever endpoints the environment names.

There is no simulator-only branch: given real credentials and no endpoint overrides, the same calls
create the buckets, topic, secret, roles, Lambdas, state machines and Databricks jobs in AWS and a real
workspace. Every step is idempotent (create, or update what exists), so deploying twice is harmless.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from asl import loader as asl_loader
from etl.columns import RAW_NAMES
from harness.bundle import load_jobs
from harness.clients import aws_client, workspace_client
from harness.iam_policies import POLICY_NAME, function_statements, policy_document, state_machine_statements

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN_SECRET = "stepbricks/databricks-token"
NOTEBOOKS = {
    "etl": PROJECT_ROOT / "etl" / "notebooks" / "etl.py",
    "train": PROJECT_ROOT / "ml" / "notebooks" / "train.py",
    "evaluate": PROJECT_ROOT / "ml" / "notebooks" / "evaluate.py",
}
NOTEBOOK_DIR = "/Shared/stepbricks"
VARIANTS = {"polling": "pipeline", "callback": "pipeline_callback", "map": "pipeline_map", "http": "pipeline_http"}
# Variants a Step Functions engine may lack: Step Functions Local and LocalStack refuse the HTTP Task, so
# there the HTTP variant is left out (and says why) while the others deploy.
OPTIONAL_VARIANTS = frozenset({"http"})
SFN_ROLE = "stepbricks-sfn-role"  # the state machines' role (name after the deployment prefix)
CONNECTION = "stepbricks-databricks"  # the EventBridge connection the HTTP variant's HTTP Tasks authorize with

# function key -> (handler, timeout seconds). Names get the deployment prefix.
FUNCTIONS: dict[str, tuple[str, int]] = {
    "validate-file": ("lambdas.validate_file.lambda_handler", 60),
    "start-databricks-job": ("lambdas.start_databricks_job.lambda_handler", 60),
    "check-databricks-job": ("lambdas.check_databricks_job.lambda_handler", 30),
    "send-notification": ("lambdas.send_notification.lambda_handler", 30),
    "trigger-pipeline": ("lambdas.trigger_pipeline.lambda_handler", 30),
    "list-files": ("lambdas.list_files.lambda_handler", 60),
}

_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
_SFN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class DeployConfig:
    """What varies between deployments. `prefix` keeps several deployments apart in one account."""

    prefix: str = ""
    poll_seconds: int = 30
    min_roc_auc: float = 0.7
    model_name: str = "stepbricks-churn"
    cluster_id: str | None = None  # None: the workspace's first all-purpose cluster
    lambda_runtime: str = "python3.12"
    notification_email: str | None = None


@dataclass
class Deployment:
    account: str
    region: str
    buckets: dict[str, str]
    topic_arn: str
    secret_arn: str
    functions: dict[str, str]  # key -> function ARN
    state_machines: dict[str, str]  # variant -> state machine ARN
    jobs: dict[str, int]  # bundle key -> Databricks job id
    cluster_id: str
    config: DeployConfig = field(default_factory=DeployConfig)
    unsupported: dict[str, str] = field(default_factory=dict)  # variant -> why the backend refused it
    roles: dict[str, str] = field(default_factory=dict)  # function key (and "states") -> its role's ARN

    def to_json(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if k != "config"}
        data["config"] = self.config.__dict__
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        data = json.loads(text)
        data["config"] = DeployConfig(**data["config"])
        return cls(**data)


def bucket_names(prefix: str) -> dict[str, str]:
    return {k: f"{prefix}stepbricks-{k}" for k in ("raw", "processed", "models", "results", "mlflow")}


def build_lambda_zip(root: Path = PROJECT_ROOT) -> bytes:
    """The `lambdas` package as a deployment zip (handlers are `lambdas.<module>.lambda_handler`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((root / "lambdas").rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            info = zipfile.ZipInfo(str(path.relative_to(root)), date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    return buffer.getvalue()


def deploy(env: Mapping[str, str] | None = None, config: DeployConfig | None = None) -> Deployment:
    """Deploy (or update) everything the pipeline needs; returns what was deployed."""
    env = dict(os.environ if env is None else env)
    config = config or DeployConfig()
    sts = aws_client("sts", env)
    account = sts.get_caller_identity()["Account"]
    region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1"

    buckets = _ensure_buckets(aws_client("s3", env), bucket_names(config.prefix), region)
    topic_arn = _ensure_topic(aws_client("sns", env), f"{config.prefix}pipeline-notifications", config)
    secret_arn = _ensure_secret(aws_client("secretsmanager", env), f"{config.prefix}{TOKEN_SECRET}", env)
    connection_arn = _ensure_connection(aws_client("events", env), f"{config.prefix}{CONNECTION}",
                                        _workspace_token(aws_client("secretsmanager", env), secret_arn, env))
    cluster_id, job_ids = _deploy_databricks(env, config, buckets)

    names = {key: f"{config.prefix}stepbricks-{key}" for key in FUNCTIONS}
    sm_names = {variant: f"{config.prefix}stepbricks-{VARIANTS[variant].replace('_', '-')}" for variant in VARIANTS}
    sm_arns = {v: f"arn:aws:states:{region}:{account}:stateMachine:{n}" for v, n in sm_names.items()}
    fn_arns = {k: f"arn:aws:lambda:{region}:{account}:function:{n}" for k, n in names.items()}

    # One role per function, allowed only what its code calls; one for the state machines (iam_policies.py).
    iam = aws_client("iam", env)
    roles = {
        key: _ensure_role(iam, f"{names[key]}-role", _LAMBDA_TRUST, policy_document(function_statements(
            key, region=region, account=account, function_name=names[key], buckets=buckets, secret_arn=secret_arn,
            topic_arn=topic_arn, state_machine_arns=list(sm_arns.values()))))
        for key in FUNCTIONS
    }
    roles["states"] = sfn_role = _ensure_role(
        iam, f"{config.prefix}{SFN_ROLE}", _SFN_TRUST, policy_document(state_machine_statements(
            region=region, account=account, function_arns=list(fn_arns.values()),
            state_machine_arns=list(sm_arns.values()), connection_arn=connection_arn, buckets=buckets)))

    lam = aws_client("lambda", env)
    code = build_lambda_zip()
    common_env = {
        "DATABRICKS_HOST": env.get("DATABRICKS_HOST", ""),
        "DATABRICKS_TOKEN_SECRET": f"{config.prefix}{TOKEN_SECRET}",
        "TOPIC_ARN": topic_arn,
        "STATE_MACHINE_ARN": sm_arns["polling"],
        # validate-file refuses a CSV lacking any of them, naming it, instead of quarantining every row.
        "REQUIRED_COLUMNS": ",".join(RAW_NAMES),
    }
    for key, (handler, timeout) in FUNCTIONS.items():
        fn_arns[key] = _ensure_function(lam, names[key], handler, timeout, code, roles[key], common_env, config)

    substitutions = definition_substitutions(
        account=account, region=region, config=config, functions=fn_arns, topic_arn=topic_arn, job_ids=job_ids,
        buckets=buckets, databricks_host=env.get("DATABRICKS_HOST", ""), connection_arn=connection_arn)
    unsupported = _ensure_state_machines(aws_client("stepfunctions", env), sm_names, substitutions, sfn_role)
    for variant in unsupported:
        sm_arns.pop(variant)

    _ensure_s3_trigger(aws_client("s3", env), lam, buckets["raw"], fn_arns["trigger-pipeline"], account)
    return Deployment(
        account=account,
        region=region,
        buckets=buckets,
        topic_arn=topic_arn,
        secret_arn=secret_arn,
        functions=fn_arns,
        state_machines=sm_arns,
        jobs=job_ids,
        cluster_id=cluster_id,
        config=config,
        unsupported=unsupported,
        roles=roles,
    )


def definition_substitutions(*, account: str, region: str, config: DeployConfig, functions: Mapping[str, str],
                             topic_arn: str, job_ids: Mapping[str, int], buckets: Mapping[str, str],
                             databricks_host: str, connection_arn: str) -> dict[str, str]:
    """The values of the state machine definitions' `${Name}` placeholders (asl/loader.py), from what was
    deployed: one place, so `deploy` and the TestState fixture render the same definitions."""
    return {
        "AccountId": account,
        "Region": region,
        "Prefix": config.prefix,
        "PollSeconds": str(config.poll_seconds),
        "ValidateFileFunctionArn": functions["validate-file"],
        "StartDatabricksJobFunctionArn": functions["start-databricks-job"],
        "CheckDatabricksJobFunctionArn": functions["check-databricks-job"],
        "SendNotificationFunctionArn": functions["send-notification"],
        "ListFilesFunctionArn": functions["list-files"],
        "TopicArn": topic_arn,
        "EtlJobId": str(job_ids["etl"]),
        "TrainJobId": str(job_ids["train"]),
        "EvaluateJobId": str(job_ids["evaluate"]),
        "RawBucket": buckets["raw"],
        "ProcessedBucket": buckets["processed"],
        "ModelsBucket": buckets["models"],
        "ResultsBucket": buckets["results"],
        "ModelName": config.model_name,
        "MinRocAuc": str(config.min_roc_auc),
        "DatabricksHost": databricks_host.rstrip("/"),
        "DatabricksConnectionArn": connection_arn,
    }


# What a deploy into a fresh `stepbricks up` gives for what only a deploy knows: moto's default account, the
# workspace's first job ids (in resources/jobs.yml's order) and a workspace URL that names no real host.
NOMINAL_ACCOUNT = "123456789012"
NOMINAL_JOB_IDS = {"etl": 1001, "train": 1002, "evaluate": 1003}
NOMINAL_DATABRICKS_HOST = "https://workspace.stepbricks.invalid"


def nominal_substitutions(config: DeployConfig | None = None, *, account: str = NOMINAL_ACCOUNT,
                          region: str = "us-east-1") -> dict[str, str]:
    """The substitutions `deploy` would use, computed without deploying (names and ARNs follow from the
    prefix, account and region): a shipped definition rendered with them is the one deploy creates, for
    testing its states one by one (harness/state_tester.py)."""
    config = config or DeployConfig()
    functions = {k: f"arn:aws:lambda:{region}:{account}:function:{config.prefix}stepbricks-{k}" for k in FUNCTIONS}
    connection = f"{config.prefix}{CONNECTION}"
    return definition_substitutions(
        account=account, region=region, config=config, functions=functions,
        topic_arn=f"arn:aws:sns:{region}:{account}:{config.prefix}pipeline-notifications",
        job_ids=NOMINAL_JOB_IDS, buckets=bucket_names(config.prefix), databricks_host=NOMINAL_DATABRICKS_HOST,
        connection_arn=f"arn:aws:events:{region}:{account}:connection/{connection}/00000000-0000-0000-0000-000000000000")


def state_machine_role_arn(config: DeployConfig | None = None, *, account: str = NOMINAL_ACCOUNT) -> str:
    """The role `deploy` gives the state machines."""
    return f"arn:aws:iam::{account}:role/{(config or DeployConfig()).prefix}{SFN_ROLE}"


def set_trigger_target(env: Mapping[str, str], deployment: Deployment, variant: str) -> None:
    """Point the S3 trigger Lambda at the state machine of `variant` (one trigger per raw bucket)."""
    lam = aws_client("lambda", env)
    name = deployment.functions["trigger-pipeline"].rsplit(":", 1)[-1]
    current = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    if current.get("STATE_MACHINE_ARN") == deployment.state_machines[variant]:
        return
    current["STATE_MACHINE_ARN"] = deployment.state_machines[variant]
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": current})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)


# --- AWS pieces -------------------------------------------------------------------------------------


def _ensure_buckets(s3: Any, buckets: dict[str, str], region: str) -> dict[str, str]:
    for name in buckets.values():
        try:
            s3.head_bucket(Bucket=name)
        except ClientError:
            kwargs: dict[str, Any] = {"Bucket": name}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)
    return buckets


def _ensure_topic(sns: Any, name: str, config: DeployConfig) -> str:
    arn = sns.create_topic(Name=name)["TopicArn"]  # CreateTopic is idempotent on AWS
    if config.notification_email:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=config.notification_email)
    return arn


def _ensure_secret(sm: Any, name: str, env: Mapping[str, str]) -> str:
    """The workspace token lives in Secrets Manager, never in Lambda code or configuration."""
    token = env.get("DATABRICKS_TOKEN")
    try:
        arn = sm.describe_secret(SecretId=name)["ARN"]
        if token:
            sm.put_secret_value(SecretId=name, SecretString=token)
        return arn
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    if not token:
        raise RuntimeError(f"Secret '{name}' does not exist and DATABRICKS_TOKEN is not set to create it")
    return sm.create_secret(Name=name, SecretString=token)["ARN"]


def _workspace_token(sm: Any, secret_arn: str, env: Mapping[str, str]) -> str:
    return env.get("DATABRICKS_TOKEN") or sm.get_secret_value(SecretId=secret_arn)["SecretString"].strip()


def _ensure_connection(events: Any, name: str, token: str) -> str:
    """The EventBridge connection the HTTP variant's HTTP Tasks call the workspace with: an API_KEY
    connection whose key is the `Authorization: Bearer <token>` header (EventBridge keeps it in its own
    Secrets Manager secret); an existing one gets the current token."""
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "Authorization", "ApiKeyValue": f"Bearer {token}"}}
    try:
        events.describe_connection(Name=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return events.create_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=auth,
                                        Description="Databricks workspace token for the HTTP Tasks")["ConnectionArn"]
    return events.update_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=auth)["ConnectionArn"]


def _ensure_role(iam: Any, name: str, trust: dict, permissions: dict | None = None) -> str:
    """The role `name` trusting `trust`'s service, with `permissions` as its inline policy (replaced on
    every deploy, so a redeploy also takes permissions away)."""
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except ClientError:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if permissions is not None:
        iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(permissions))
    return arn


def _ensure_function(
    lam: Any,
    name: str,
    handler: str,
    timeout: int,
    code: bytes,
    role: str,
    env: dict[str, str],
    config: DeployConfig,
) -> str:
    settings = {
        "Runtime": config.lambda_runtime,
        "Role": role,
        "Handler": handler,
        "Timeout": timeout,
        "MemorySize": 256,
        "Environment": {"Variables": env},
    }
    try:
        lam.get_function_configuration(FunctionName=name)
    except ClientError:
        arn = lam.create_function(FunctionName=name, Code={"ZipFile": code}, **settings)["FunctionArn"]
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        return arn
    lam.update_function_code(FunctionName=name, ZipFile=code)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    arn = lam.update_function_configuration(FunctionName=name, **settings)["FunctionArn"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    return arn


def _ensure_state_machines(sfn: Any, names: Mapping[str, str], substitutions: Mapping[str, str],
                           role: str) -> dict[str, str]:
    """Create or update each variant's state machine; returns the optional variants the engine refused."""
    unsupported: dict[str, str] = {}
    for variant, definition_name in VARIANTS.items():
        definition = asl_loader.render(definition_name, substitutions)
        try:
            _ensure_state_machine(sfn, names[variant], definition, role)
        except ClientError as exc:
            if variant not in OPTIONAL_VARIANTS or exc.response["Error"]["Code"] != "InvalidDefinition":
                raise
            unsupported[variant] = f"this Step Functions engine refused it: {exc.response['Error'].get('Message', '')}"
    return unsupported


def _ensure_state_machine(sfn: Any, name: str, definition: str, role: str) -> str:
    for page in sfn.get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            if sm["name"] == name:
                sfn.update_state_machine(stateMachineArn=sm["stateMachineArn"], definition=definition, roleArn=role)
                return sm["stateMachineArn"]
    return sfn.create_state_machine(name=name, definition=definition, roleArn=role, type="STANDARD")[
        "stateMachineArn"
    ]


def _ensure_s3_trigger(s3: Any, lam: Any, bucket: str, function_arn: str, account: str) -> None:
    """S3 → trigger Lambda on `incoming/`, with the resource policy AWS requires before it accepts it."""
    try:
        lam.add_permission(
            FunctionName=function_arn,
            StatementId=f"s3-invoke-{bucket}",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{bucket}",
            SourceAccount=account,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceConflictException":
            raise
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "stepbricks-trigger",
                    "LambdaFunctionArn": function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
                }
            ]
        },
    )


# --- Databricks pieces ------------------------------------------------------------------------------


def _deploy_databricks(env: Mapping[str, str], config: DeployConfig, buckets: dict[str, str]) -> tuple[str, dict[str, int]]:
    from databricks.sdk.service.workspace import ImportFormat, Language

    w = workspace_client(env)
    w.workspace.mkdirs(NOTEBOOK_DIR)
    for name, path in NOTEBOOKS.items():
        w.workspace.upload(
            f"{NOTEBOOK_DIR}/{name}", path.read_bytes(), format=ImportFormat.SOURCE, language=Language.PYTHON, overwrite=True
        )
    cluster_id = config.cluster_id or _first_cluster(w)
    specs = load_jobs(PROJECT_ROOT / "resources", {"cluster_id": cluster_id, "bucket_prefix": config.prefix})
    existing = {job.settings.name: job.job_id for job in w.jobs.list() if job.settings and job.settings.name}
    job_ids: dict[str, int] = {}
    for key, spec in specs.items():
        spec = {**spec, "name": f"{config.prefix}{spec['name']}"}
        if spec["name"] in existing:
            job_id = existing[spec["name"]]
            w.api_client.do("POST", "/api/2.1/jobs/reset", body={"job_id": job_id, "new_settings": spec})
        else:
            job_id = w.api_client.do("POST", "/api/2.1/jobs/create", body=spec)["job_id"]
        job_ids[key] = int(job_id)
    return cluster_id, job_ids


def _first_cluster(w: Any) -> str:
    clusters = list(w.clusters.list())
    if not clusters:
        raise RuntimeError("The workspace has no all-purpose cluster: pass DeployConfig(cluster_id=...)")
    return clusters[0].cluster_id
