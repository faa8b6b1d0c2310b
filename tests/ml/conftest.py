"""ML fixtures: a real moto server (S3 for MLflow artifacts, models, results, processed data) and one
SQLite MLflow store for the session, copied from the migrated template a simulator's state starts from
(`sim.mlflow_store`), and shared: each test isolates itself by model name instead."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
import requests
from ml_synthetic import batch_objects, processed_frame
from moto.server import ThreadedMotoServer

from sim import mlflow_store

ROLE = "arn:aws:iam::123456789012:role/stepbricks-sfn"
BUCKETS = {
    "processed": "stepbricks-processed",
    "models": "stepbricks-models",
    "results": "stepbricks-results",
    "mlflow": "stepbricks-mlflow",
}


@dataclass(frozen=True)
class MlStack:
    endpoint: str
    tracking_uri: str
    s3: object  # boto3 S3 client on the moto server

    def put_batch(self, prefix: str, df, batch_id: str, *, manifest: bool = True) -> None:
        for key, data in batch_objects(df, batch_id, manifest=manifest).items():
            self.s3.put_object(Bucket=BUCKETS["processed"], Key=f"{prefix}/{key}", Body=data)


@pytest.fixture(scope="session")
def ml_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlStack]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    db = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    mlflow_store.prepare(db)  # a copy of the migrated template, as a simulator's state gets: not 4 s of migrations
    tracking_uri = f"sqlite:///{db}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        env.setenv("MLFLOW_S3_ENDPOINT_URL", endpoint)
        env.setenv("MLFLOW_TRACKING_URI", tracking_uri)
        env.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        env.delenv("STEPBRICKS_MLFLOW_ARTIFACT_ROOT", raising=False)
        # moto's ASL interpreter (off by default) calls its service integrations at localhost:$MOTO_PORT.
        env.setenv("MOTO_PORT", str(port))
        config = {"stepfunctions": {"execute_state_machine": True}}
        requests.post(f"{endpoint}/moto-api/config", json=config, timeout=10).raise_for_status()
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in BUCKETS.values():
            s3.create_bucket(Bucket=bucket)
        try:
            yield MlStack(endpoint=endpoint, tracking_uri=tracking_uri, s3=s3)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def customers():
    """3 000 customers with a learnable churn signal (deterministic)."""
    return processed_frame(3_000, seed=7)


@pytest.fixture(scope="session")
def trained(ml_stack: MlStack, customers) -> dict:
    """One training run shared by the end-to-end tests (log_model + register costs seconds)."""
    from ml.train import run_training

    prefix = "e2e/processed"
    ml_stack.put_batch(prefix, customers.iloc[:2000], "b1")
    ml_stack.put_batch(prefix, customers.iloc[2000:], "b2")
    ml_stack.put_batch(
        prefix, processed_frame(500, seed=99, id_offset=900_000), "in-progress", manifest=False
    )
    return run_training(
        processed_uri=f"s3://{BUCKETS['processed']}/{prefix}",
        model_name="churn-e2e",
        models_root=f"s3://{BUCKETS['models']}/models",
        seed=42,
    )


@dataclass(frozen=True)
class WaitingTask:
    """A Step Functions execution parked in a `.waitForTaskToken` state (the callback variant's shape)."""

    sfn: object
    execution_arn: str
    token: str

    def final(self, timeout: float = 30.0) -> dict:
        """describe_execution once the execution has left RUNNING (the callback is processed asynchronously)."""
        deadline = time.monotonic() + timeout
        while (described := self.sfn.describe_execution(executionArn=self.execution_arn))[
            "status"
        ] == "RUNNING":
            assert time.monotonic() < deadline, "the execution is still waiting for its task token"
            time.sleep(0.1)
        return described


@pytest.fixture
def waiting_task(ml_stack: MlStack) -> WaitingTask:
    sqs, sfn = boto3.client("sqs"), boto3.client("stepfunctions")
    queue_url = sqs.create_queue(QueueName=f"ml-tokens-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    definition = {
        "StartAt": "RunJob",
        "States": {
            "RunJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name=f"ml-callback-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20).get("Messages", [])
    assert messages, "the waitForTaskToken state never sent its token"
    return WaitingTask(sfn=sfn, execution_arn=execution, token=json.loads(messages[0]["Body"])["token"])
