"""IAM, optionally enforced (`AwsSimulator.start(enforce_iam=True)`): functions run with their execution
role's temporary credentials, state machines call Lambda with theirs, and a call no identity-based policy
allows fails with the service's AccessDenied as AWS words it (IAM user guide, "Troubleshoot access
denied error messages")."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sim.aws import AwsSimulator
from sim.simulator import Simulator
from tests.sim.aws.conftest import build_zip

_WHOAMI = """
import os, boto3
def handler(event, context):
    return {"arn": boto3.client("sts").get_caller_identity()["Arn"],
            "key": os.environ["AWS_ACCESS_KEY_ID"], "token": bool(os.environ.get("AWS_SESSION_TOKEN")),
            "pid": os.getpid()}
"""
_CALLER = """
import json, boto3
from botocore.exceptions import ClientError
CALLS = {
    "secretsmanager": lambda e: boto3.client("secretsmanager").get_secret_value(SecretId=e["secret"]),
    "sns": lambda e: boto3.client("sns").publish(TopicArn=e["topic"], Message="hi"),
    "states": lambda e: boto3.client("stepfunctions").describe_state_machine(stateMachineArn=e["machine"]),
    "lambda": lambda e: boto3.client("lambda").invoke(FunctionName=e["function"]),
}
def handler(event, context):
    try:
        CALLS[event["call"]](event)
    except ClientError as error:
        return {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"],
                "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    return {"code": None}
"""
_LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
_SFN_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsSimulator]:
    """A simulator of its own (its own context and account), AWS only."""
    with Simulator.start(state_dir=tmp_path_factory.mktemp("iam-aws"), databricks=False, warm_cluster=False,
                         enforce_iam=True) as simulator:
        yield simulator.aws
        simulator.raise_background_failures()


def _role(sim: AwsSimulator, name: str, trust: dict, statements: list[dict] | None = None) -> str:
    iam = sim.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        _allow(sim, name, statements)
    return arn


def _allow(sim: AwsSimulator, role: str, statements: list[dict]) -> None:
    sim.client("iam").put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))


def _function(sim: AwsSimulator, name: str, role_arn: str, source: str) -> str:
    return sim.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role_arn, Handler="app.handler",
        Code={"ZipFile": build_zip({"app.py": source})}, Timeout=30)["FunctionArn"]


def test_a_function_runs_with_its_execution_roles_temporary_credentials(enforcing):
    role = _role(enforcing, "whoami-role", _LAMBDA_TRUST)
    _function(enforcing, "whoami", role, _WHOAMI)

    seen = enforcing.invoke("whoami")["Payload"]

    assert seen["arn"] == f"arn:aws:sts::{enforcing.account_id}:assumed-role/whoami-role/whoami"
    assert seen["token"] is True, "temporary credentials come with a session token"
    assert seen["key"] != "testing", "never the simulator's own key"


def test_a_new_role_gets_a_new_execution_environment_with_that_roles_credentials(enforcing):
    first = _role(enforcing, "first-role", _LAMBDA_TRUST)
    second = _role(enforcing, "second-role", _LAMBDA_TRUST)
    _function(enforcing, "switcher", first, _WHOAMI)
    before = enforcing.invoke("switcher")["Payload"]
    lam = enforcing.client("lambda")
    lam.update_function_configuration(FunctionName="switcher", Role=second)
    lam.get_waiter("function_updated_v2").wait(FunctionName="switcher")

    after = enforcing.invoke("switcher")["Payload"]

    assert before["arn"].endswith("/first-role/switcher") and after["arn"].endswith("/second-role/switcher")
    assert after["pid"] != before["pid"], "a warm environment never outlives its role"


@pytest.fixture(scope="module")
def targets(enforcing) -> dict[str, Any]:
    """A secret, a topic, a state machine and a function for the caller function to reach."""
    secret = enforcing.client("secretsmanager").create_secret(Name="app/token", SecretString="s")["ARN"]
    topic = enforcing.client("sns").create_topic(Name="alerts")["TopicArn"]
    machine_role = _role(enforcing, "machine-role", _SFN_TRUST)
    machine = enforcing.client("stepfunctions").create_state_machine(
        name="noop", roleArn=machine_role,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    callee = _function(enforcing, "callee", _role(enforcing, "callee-role", _LAMBDA_TRUST), _WHOAMI)
    role = _role(enforcing, "caller-role", _LAMBDA_TRUST)
    _function(enforcing, "caller", role, _CALLER)
    return {"secret": secret, "topic": topic, "machine": machine, "function": callee}


DENIED = [
    ("secretsmanager", "AccessDeniedException", "secretsmanager:GetSecretValue", "secret"),
    ("sns", "AuthorizationError", "SNS:Publish", "topic"),
    ("states", "AccessDeniedException", "states:DescribeStateMachine", "machine"),
    ("lambda", "AccessDeniedException", "lambda:InvokeFunction", "function"),
]


@pytest.mark.parametrize(("call", "code", "action", "target"), DENIED, ids=[d[0] for d in DENIED])
def test_a_call_no_policy_allows_fails_with_the_services_access_denied(enforcing, targets, call, code, action,
                                                                         target):
    event = {"call": call, **targets}
    resource = targets[target]

    refused = enforcing.invoke("caller", event)["Payload"]

    principal = f"arn:aws:sts::{enforcing.account_id}:assumed-role/caller-role/caller"
    assert refused == {"code": code, "status": 403, "message": (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action")}
    _allow(enforcing, "caller-role", [{"Effect": "Allow", "Action": action.lower(), "Resource": resource}])
    try:
        assert enforcing.invoke("caller", event)["Payload"] == {"code": None}, "allowed on exactly its ARN"
    finally:
        enforcing.client("iam").delete_role_policy(RoleName="caller-role", PolicyName="p")


def test_an_explicit_deny_wins_over_an_allow(enforcing, targets):
    _allow(enforcing, "caller-role", [
        {"Effect": "Allow", "Action": "sns:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sns:Publish", "Resource": targets["topic"]},
    ])
    try:
        refused = enforcing.invoke("caller", {"call": "sns", **targets})["Payload"]
    finally:
        enforcing.client("iam").delete_role_policy(RoleName="caller-role", PolicyName="p")

    assert refused["code"] == "AuthorizationError"
    assert refused["message"].endswith(f"SNS:Publish on resource: {targets['topic']} "
                                       "with an explicit deny in an identity-based policy")


def _wait(sim: AwsSimulator, execution_arn: str) -> dict[str, Any]:
    sfn = sim.client("stepfunctions")
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.1)
    return described


def test_a_state_machine_calls_lambda_with_its_own_role(enforcing):
    function = _function(enforcing, "task-fn", _role(enforcing, "task-fn-role", _LAMBDA_TRUST), _WHOAMI)
    role = _role(enforcing, "pipeline-machine-role", _SFN_TRUST)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                   "Parameters": {"FunctionName": function}, "End": True}}}
    machine = enforcing.client("stepfunctions").create_state_machine(
        name="invoker", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]

    denied = _wait(enforcing, enforcing.start_execution(machine, {}))
    _allow(enforcing, "pipeline-machine-role", [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                                 "Resource": function}])
    allowed = _wait(enforcing, enforcing.start_execution(machine, {}))

    assert denied["status"] == "FAILED"
    assert denied["error"] == "Lambda.AccessDeniedException"
    assert denied["cause"].startswith(
        f"User: arn:aws:sts::{enforcing.account_id}:assumed-role/pipeline-machine-role/")
    assert f"is not authorized to perform: lambda:InvokeFunction on resource: {function} because" in denied["cause"]
    assert allowed["status"] == "SUCCEEDED"


def test_an_optimised_integration_publishes_with_the_machines_role(enforcing):
    """sns:publish (sfn_services' own call, through the `boto_client_for` moto's SNS task imported) is signed
    with the machine's role like Lambda's: the role's policy decides it."""
    topic = enforcing.client("sns").create_topic(Name="pipeline-events")["TopicArn"]
    role = _role(enforcing, "publisher-machine-role", _SFN_TRUST)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                                                   "Parameters": {"TopicArn": topic, "Message": "done"},
                                                   "End": True}}}
    machine = enforcing.client("stepfunctions").create_state_machine(
        name="publisher", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]

    denied = _wait(enforcing, enforcing.start_execution(machine, {}))
    _allow(enforcing, "publisher-machine-role", [{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}])
    allowed = _wait(enforcing, enforcing.start_execution(machine, {}))

    assert denied["status"] == "FAILED", denied
    assert denied["error"] == "SNS.AuthorizationErrorException"  # SNS's AuthorizationError, as the Java SDK names it
    assert denied["cause"].startswith(
        f"User: arn:aws:sts::{enforcing.account_id}:assumed-role/publisher-machine-role/")
    assert f"is not authorized to perform: SNS:Publish on resource: {topic} because" in denied["cause"]
    assert allowed["status"] == "SUCCEEDED", allowed


def test_the_simulators_own_key_is_an_admin_user_and_an_unknown_key_is_refused(enforcing):
    keys = enforcing.client("iam").list_access_keys(UserName="stepbricks-admin")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == ["testing"]
    import boto3

    stranger = boto3.client("s3", endpoint_url=enforcing.endpoint, region_name="us-east-1",
                            aws_access_key_id="AKIANOBODY0000000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as refused:
        stranger.list_buckets()
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_a_simulator_without_enforcement_beside_it_still_allows_everything(enforcing, targets, tmp_path):
    """Enforcement is per simulator: one started beside the enforcing one, in the same process, lets a role
    with no policy at all read a secret, while the enforcing one still refuses the same call."""
    with Simulator.start(state_dir=tmp_path, databricks=False, warm_cluster=False) as open_sim:
        aws = open_sim.aws
        aws.client("secretsmanager").create_secret(Name="open/token", SecretString="s")
        _function(aws, "open-caller", _role(aws, "open-role", _LAMBDA_TRUST), _CALLER)

        answer = aws.invoke("open-caller", {"call": "secretsmanager", "secret": "open/token"})["Payload"]
        still = enforcing.invoke("caller", {"call": "secretsmanager", **targets})["Payload"]
        # moto runs executions on threads no simulator bound: the enforcing one still applies its role
        machine = enforcing.client("stepfunctions").create_state_machine(
            name="beside", roleArn=_role(enforcing, "beside-role", _SFN_TRUST), definition=json.dumps(
                {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                  "Parameters": {"FunctionName": targets["function"]},
                                                  "End": True}}}))["stateMachineArn"]
        execution = _wait(enforcing, enforcing.start_execution(machine, {}))

    assert answer == {"code": None}
    assert still["code"] == "AccessDeniedException"
    assert execution["error"] == "Lambda.AccessDeniedException"


def test_an_unsigned_request_is_refused(enforcing):
    """Anonymous ListBuckets: S3 answers AccessDenied (moto routes unsigned requests to S3)."""
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{enforcing.endpoint}/", timeout=10)
    assert refused.value.code == 403
    assert b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in refused.value.read()


def test_lambda_writes_a_functions_logs_only_when_its_role_may(enforcing):
    """AWSLambdaBasicExecutionRole's permissions: without them Lambda drops the function's logs."""
    silent = _function(enforcing, "silent", _role(enforcing, "silent-role", _LAMBDA_TRUST), _WHOAMI)
    logged_role = _role(enforcing, "logged-role", _LAMBDA_TRUST, [{
        "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:us-east-1:{enforcing.account_id}:log-group:/aws/lambda/logged:*"}])
    _function(enforcing, "logged", logged_role, _WHOAMI)

    enforcing.invoke("silent")
    enforcing.invoke("logged")

    logs = enforcing.client("logs")
    groups = {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]}
    assert "/aws/lambda/logged" in groups and "/aws/lambda/silent" not in groups, silent
    events = logs.filter_log_events(logGroupName="/aws/lambda/logged")["events"]
    assert any(e["message"].startswith("REPORT RequestId:") for e in events)
    assert any(line.startswith("REPORT") for line in enforcing.lambda_logs("silent")), "the runtime still has them"


def test_create_function_refuses_a_role_lambda_cannot_assume(enforcing):
    states_only = _role(enforcing, "states-only-role", _SFN_TRUST)

    with pytest.raises(ClientError) as refused:
        _function(enforcing, "untrusted", states_only, _WHOAMI)

    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."


@pytest.mark.parametrize(("statements", "trusted"), [
    ([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}], True),
    ([{"Effect": "Allow", "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]},
       "Action": ["sts:AssumeRole", "sts:TagSession"]}], True),
    ([{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}], False),
    ([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}], False),
    ([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
      {"Effect": "Deny", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:*"}], False),
    ([], False),
])
def test_a_trust_policy_lets_lambda_assume_the_role_only_when_it_names_lambda(statements, trusted):
    from sim.aws.moto_seams.iam import trusts_service

    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    assert trusts_service(document, "lambda.amazonaws.com") is trusted


def test_a_distributed_maps_item_reader_and_result_writer_use_the_machines_role(enforcing):
    """ItemReader (listObjectsV2) and ResultWriter (putObject) call S3 with the machine's role, so the role needs
    the permissions the developer guide lists for them (s3:ListBucket; s3:PutObject on the results prefix)."""
    s3 = enforcing.client("s3")
    s3.create_bucket(Bucket="iam-map-io")
    s3.put_object(Bucket="iam-map-io", Key="in/a.csv", Body=b"x")
    role = _role(enforcing, "map-machine-role", _SFN_TRUST)
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                         "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                       "Parameters": {"Bucket": "iam-map-io", "Prefix": "in/"}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "iam-map-io", "Prefix": "out"}}, "End": True}}}  # fmt: skip
    machine = enforcing.client("stepfunctions").create_state_machine(
        name="map-io", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]

    unlisted = _wait(enforcing, enforcing.start_execution(machine, {}))
    _allow(enforcing, "map-machine-role", [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::iam-map-io"}])
    unwritten = _wait(enforcing, enforcing.start_execution(machine, {}))
    _allow(enforcing, "map-machine-role", [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::iam-map-io"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::iam-map-io/out/*"}])
    allowed = _wait(enforcing, enforcing.start_execution(machine, {}))

    assert (unlisted["status"], unlisted["error"]) == ("FAILED", "States.ItemReaderFailed"), unlisted
    assert "AccessDenied" in unlisted["cause"]
    assert (unwritten["status"], unwritten["error"]) == ("FAILED", "States.ResultWriterFailed"), unwritten
    assert allowed["status"] == "SUCCEEDED", allowed


# -- resource-based policies and conditions (sim/aws/iam_policies.py) ---------------------------------------

_S3_CALLER = """
import boto3
from botocore.exceptions import ClientError
def handler(event, context):
    s3 = boto3.client("s3")
    try:
        if event["call"] == "get":
            return {"body": s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read().decode()}
        listed = s3.list_objects_v2(Bucket=event["bucket"], Prefix=event["prefix"])
        return {"keys": [o["Key"] for o in listed.get("Contents", [])]}
    except ClientError as error:
        return {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"],
                "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
"""


@pytest.fixture(scope="module")
def reports_bucket(enforcing) -> str:
    s3 = enforcing.client("s3")
    s3.create_bucket(Bucket="iam-reports")
    for key in ("reports/q1.csv", "private/salaries.csv"):
        s3.put_object(Bucket="iam-reports", Key=key, Body=b"data")
    return "iam-reports"


def test_a_bucket_policy_deny_stops_a_functions_get_object_with_s3s_access_denied(enforcing, reports_bucket):
    role = _role(enforcing, "reader-role", _LAMBDA_TRUST, [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{reports_bucket}/*"}])
    _function(enforcing, "reader", role, _S3_CALLER)
    event = {"call": "get", "bucket": reports_bucket, "key": "private/salaries.csv"}
    assert enforcing.invoke("reader", event)["Payload"] == {"body": "data"}, "the role alone allows it"
    s3 = enforcing.client("s3")
    s3.put_bucket_policy(Bucket=reports_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"AWS": role}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{reports_bucket}/private/*"}]}))
    try:
        refused = enforcing.invoke("reader", event)["Payload"]
        still = enforcing.invoke("reader", {**event, "key": "reports/q1.csv"})["Payload"]
    finally:
        s3.delete_bucket_policy(Bucket=reports_bucket)

    # S3 user guide, "Access denied message examples" (same-account requests).
    principal = f"arn:aws:sts::{enforcing.account_id}:assumed-role/reader-role/reader"
    assert refused == {"code": "AccessDenied", "status": 403, "message": (
        f'User: {principal} is not authorized to perform: s3:GetObject on resource: '
        f'"arn:aws:s3:::{reports_bucket}/private/salaries.csv" with an explicit deny in a resource-based policy')}
    assert still == {"body": "data"}, "the Deny names one prefix only"


def test_a_bucket_policy_allow_grants_a_role_no_identity_policy_allows(enforcing, reports_bucket):
    role = _role(enforcing, "bucket-granted-role", _LAMBDA_TRUST)
    _function(enforcing, "granted-reader", role, _S3_CALLER)
    event = {"call": "get", "bucket": reports_bucket, "key": "reports/q1.csv"}
    assert enforcing.invoke("granted-reader", event)["Payload"]["code"] == "AccessDenied"
    s3 = enforcing.client("s3")
    s3.put_bucket_policy(Bucket=reports_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{reports_bucket}/reports/*"}]}))
    try:
        assert enforcing.invoke("granted-reader", event)["Payload"] == {"body": "data"}
    finally:
        s3.delete_bucket_policy(Bucket=reports_bucket)


def test_a_condition_limited_permission_lists_one_prefix_and_not_another(enforcing, reports_bucket):
    role = _role(enforcing, "prefix-role", _LAMBDA_TRUST, [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{reports_bucket}",
         "Condition": {"StringLike": {"s3:prefix": ["reports/*"]}}}])
    _function(enforcing, "lister", role, _S3_CALLER)

    allowed = enforcing.invoke("lister", {"call": "list", "bucket": reports_bucket, "prefix": "reports/"})["Payload"]
    refused = enforcing.invoke("lister", {"call": "list", "bucket": reports_bucket, "prefix": "private/"})["Payload"]

    assert allowed == {"keys": ["reports/q1.csv"]}
    principal = f"arn:aws:sts::{enforcing.account_id}:assumed-role/prefix-role/lister"
    assert refused == {"code": "AccessDenied", "status": 403, "message": (
        f'User: {principal} is not authorized to perform: s3:ListBucket on resource: '
        f'"arn:aws:s3:::{reports_bucket}" because no identity-based policy allows the s3:ListBucket action')}


def test_a_function_policy_lets_a_role_invoke_that_no_identity_policy_allows(enforcing, targets):
    lam = enforcing.client("lambda")
    caller_role = f"arn:aws:iam::{enforcing.account_id}:role/caller-role"
    event = {"call": "lambda", **targets}
    assert enforcing.invoke("caller", event)["Payload"]["code"] == "AccessDeniedException"

    lam.add_permission(FunctionName="callee", StatementId="caller-may-invoke", Action="lambda:InvokeFunction",
                       Principal=caller_role)
    try:
        assert enforcing.invoke("caller", event)["Payload"] == {"code": None}
    finally:
        lam.remove_permission(FunctionName="callee", StatementId="caller-may-invoke")
    assert enforcing.invoke("caller", event)["Payload"]["code"] == "AccessDeniedException"


def test_a_function_permission_conditioned_on_a_source_arn_does_not_admit_a_direct_caller(enforcing, targets):
    """aws:SourceArn is set only when a service calls on behalf of a resource (S3, EventBridge): a direct
    call has no such key, so a condition on it does not hold."""
    lam = enforcing.client("lambda")
    caller_role = f"arn:aws:iam::{enforcing.account_id}:role/caller-role"
    lam.add_permission(FunctionName="callee", StatementId="from-bucket-only", Action="lambda:InvokeFunction",
                       Principal=caller_role, SourceArn="arn:aws:s3:::iam-reports")
    try:
        refused = enforcing.invoke("caller", {"call": "lambda", **targets})["Payload"]
    finally:
        lam.remove_permission(FunctionName="callee", StatementId="from-bucket-only")
    assert refused["code"] == "AccessDeniedException"
    assert refused["message"].endswith("because no identity-based policy allows the lambda:InvokeFunction action")


def test_an_s3_trigger_needs_the_functions_permission_for_the_bucket(enforcing):
    s3, lam = enforcing.client("s3"), enforcing.client("lambda")
    s3.create_bucket(Bucket="iam-trigger-bucket")
    function = _function(enforcing, "triggered", _role(enforcing, "triggered-role", _LAMBDA_TRUST), _WHOAMI)
    config = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}]}

    def configure() -> ClientError | None:
        try:
            s3.put_bucket_notification_configuration(Bucket="iam-trigger-bucket", NotificationConfiguration=config)
        except ClientError as error:
            return error
        return None

    lam.add_permission(FunctionName="triggered", StatementId="other-bucket", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::some-other-bucket",
                       SourceAccount=enforcing.account_id)
    refused = configure()
    # Recorded on AWS: LocalStack tests/aws/services/s3/test_s3_notifications_lambda.snapshot.json.
    assert refused is not None and refused.response["Error"]["Code"] == "InvalidArgument"
    assert refused.response["Error"]["Message"] == "Unable to validate the following destination configurations"

    lam.add_permission(FunctionName="triggered", StatementId="this-bucket", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::iam-trigger-bucket",
                       SourceAccount=enforcing.account_id)
    assert configure() is None
    s3.put_object(Bucket="iam-trigger-bucket", Key="first.csv", Body=b"x")
    lam.remove_permission(FunctionName="triggered", StatementId="this-bucket")
    s3.put_object(Bucket="iam-trigger-bucket", Key="second.csv", Body=b"x")

    deadline = time.monotonic() + 30
    while not all(d.done for d in enforcing.s3_deliveries("iam-trigger-bucket")) or \
            len(enforcing.s3_deliveries("iam-trigger-bucket")) < 2:
        assert time.monotonic() < deadline, "deliveries still pending"
        time.sleep(0.05)
    first, second = sorted(enforcing.s3_deliveries("iam-trigger-bucket"), key=lambda d: d.key)
    assert first.attempts[0] == "success"
    assert second.attempts == ["not-authorized"], "S3 stops invoking once the permission is gone"
