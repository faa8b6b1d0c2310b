"""AwsSimulator's public surface: loopback endpoint, environment, Step Functions execution, lifecycle."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from sim.aws import AwsSimulator, moto_seams
from tests.sim.aws.sfn.conftest import wait_for


def test_endpoint_is_on_loopback_with_dummy_credentials_in_the_environment(aws: AwsSimulator):
    assert urlsplit(aws.endpoint).hostname == "127.0.0.1"
    assert urlsplit(aws.lambda_invoke_endpoint).hostname == "127.0.0.1"
    assert aws.env == {
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_s3_secrets_manager_and_sts_answer_as_moto_provides(aws: AwsSimulator):
    aws.client("s3").create_bucket(Bucket="surface-check")
    assert "surface-check" in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    secrets = aws.client("secretsmanager")
    secrets.create_secret(Name="stepbricks/databricks-token", SecretString="dapi-local")
    assert secrets.get_secret_value(SecretId="stepbricks/databricks-token")["SecretString"] == "dapi-local"
    assert aws.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_unnamed_executions_get_distinct_names(aws: AwsSimulator, role_arn):
    # moto names an execution without `name` "None", so a second one would collide: start_execution names them.
    sfn = aws.client("stepfunctions")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    machine = sfn.create_state_machine(name="named-executions", definition=definition,
                                       roleArn=role_arn)["stateMachineArn"]
    first, second = aws.start_execution(machine, {}), aws.start_execution(machine, {})
    assert first != second


def test_invoke_convenience_returns_parsed_payload_and_log_tail(aws: AwsSimulator, make_function):
    name = make_function("def handler(event, context):\n    print('hello')\n    return {'got': event}\n")
    result = aws.invoke(name, {"k": "v"})
    assert result["StatusCode"] == 200 and result["FunctionError"] is None
    assert result["Payload"] == {"got": {"k": "v"}}
    assert result["LogResult"]


def test_a_second_simulator_in_the_process_shares_state_and_stopping_it_keeps_the_first_working(
        aws: AwsSimulator, tmp_path: Path):
    aws.client("s3").create_bucket(Bucket="shared-state")
    with AwsSimulator.start(state_dir=tmp_path) as second:
        assert second.endpoint != aws.endpoint
        assert "shared-state" in [b["Name"] for b in second.client("s3").list_buckets()["Buckets"]]
    assert moto_seams.running_hosts() >= 1
    assert "shared-state" in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]


def test_a_simulator_started_beside_another_does_not_rewind_their_shared_ids_so_its_role_replaces_none(
        tmp_path: Path):
    """Both serve one moto account; moto draws role ids from one process-wide seeded stream. A second
    simulator that re-seeded it drew the first one's role id again, and moto's role table, keyed by id,
    lost the first role (CreateFunction then said "The role defined for the function cannot be assumed")."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"Service": "lambda.amazonaws.com"}}]})
    with AwsSimulator.start(state_dir=tmp_path / "a", seed=9) as first:
        kept = first.client("iam").create_role(RoleName="first-role", AssumeRolePolicyDocument=trust)["Role"]
        with AwsSimulator.start(state_dir=tmp_path / "b", seed=9) as second:
            other = second.client("iam").create_role(RoleName="second-role", AssumeRolePolicyDocument=trust)["Role"]
        assert other["RoleId"] != kept["RoleId"]
        assert first.client("iam").get_role(RoleName="first-role")["Role"]["Arn"] == kept["Arn"]


def test_a_simulator_started_after_another_stopped_runs_its_integrations_against_its_own_port(tmp_path: Path):
    """Step Functions' integration clients are kept per simulator (`sfn_iam`): one kept past its simulator
    called the stopped simulator's port ("Could not connect to the endpoint URL")."""
    definition = json.dumps({"StartAt": "List", "States": {"List": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": True}}})
    for name in ("first", "second"):
        with AwsSimulator.start(state_dir=tmp_path / name) as sim:
            sim.client("s3").create_bucket(Bucket=f"{name}-bucket")
            sfn = sim.client("stepfunctions")
            machine = sfn.create_state_machine(name=f"{name}-lists", definition=definition,
                                               roleArn="arn:aws:iam::123456789012:role/stepbricks-sfn")
            arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
            described = wait_for(sfn, arn)
            assert described["status"] == "SUCCEEDED", described
            assert f"{name}-bucket" in described["output"]


def test_a_simulator_stopping_beside_another_leaves_its_s3_objects_readable(tmp_path: Path):
    """Each simulator's stop resets only its own account (`moto_seams.reset_account`); moto's S3 reset
    closed every S3 object of the process, so the other simulator's GetObject failed with a 500."""
    with AwsSimulator.start(state_dir=tmp_path / "kept", account_id="111111111111") as kept:
        s3 = kept.client("s3")
        s3.create_bucket(Bucket="kept-bucket")
        s3.put_object(Bucket="kept-bucket", Key="data.csv", Body=b"a,b\n1,2\n")
        with AwsSimulator.start(state_dir=tmp_path / "beside", account_id="222222222222") as beside:
            beside.client("s3").create_bucket(Bucket="beside-bucket")
            beside.client("s3").put_object(Bucket="beside-bucket", Key="x", Body=b"x")
        assert s3.get_object(Bucket="kept-bucket", Key="data.csv")["Body"].read() == b"a,b\n1,2\n"
        assert s3.list_buckets()["Buckets"][0]["Name"] == "kept-bucket"


def test_simulators_side_by_side_each_have_their_own_bucket_namespace(tmp_path: Path):
    """Bucket names are global on AWS, and moto keeps one namespace per process; each simulator is an AWS
    of its own (`moto_seams.s3_namespace`): the session simulator's deploy failed with BucketAlreadyExists
    while a test's simulator held `stepbricks-raw`, or wrote into that simulator's bucket."""
    with AwsSimulator.start(state_dir=tmp_path / "a", account_id="111111111111") as first, \
            AwsSimulator.start(state_dir=tmp_path / "b", account_id="222222222222") as second:
        for sim, body in ((first, b"first"), (second, b"second")):
            sim.client("s3").create_bucket(Bucket="stepbricks-raw")
            sim.client("s3").put_object(Bucket="stepbricks-raw", Key="k", Body=body)
        assert first.client("s3").get_object(Bucket="stepbricks-raw", Key="k")["Body"].read() == b"first"
        assert second.client("s3").get_object(Bucket="stepbricks-raw", Key="k")["Body"].read() == b"second"
        assert [b["Name"] for b in second.client("s3").list_buckets()["Buckets"]] == ["stepbricks-raw"]
    with AwsSimulator.start(state_dir=tmp_path / "c", account_id="111111111111") as third:
        third.client("s3").create_bucket(Bucket="stepbricks-raw")  # both stops forgot their names
