"""Substitution values shaped like the ones `harness.deploy` passes (every value a string)."""

from __future__ import annotations

import pytest

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _fn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.fixture
def values() -> dict[str, str]:
    return substitution_values()


def substitution_values() -> dict[str, str]:
    return {
        "AccountId": ACCOUNT,
        "Region": REGION,
        "Prefix": "",
        "PollSeconds": "30",
        "ValidateFileFunctionArn": _fn("validate-file"),
        "StartDatabricksJobFunctionArn": _fn("start-databricks-job"),
        "CheckDatabricksJobFunctionArn": _fn("check-databricks-job"),
        "SendNotificationFunctionArn": _fn("send-notification"),
        "ListFilesFunctionArn": _fn("list-files"),
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:pipeline-notifications",
        "EtlJobId": "101",
        "TrainJobId": "102",
        "EvaluateJobId": "103",
        "RawBucket": "stepbricks-raw",
        "ProcessedBucket": "stepbricks-processed",
        "ModelsBucket": "stepbricks-models",
        "ResultsBucket": "stepbricks-results",
        "ModelName": "churn",
        "MinRocAuc": "0.7",
        "DatabricksHost": "https://dbc-1234.cloud.databricks.com",
        "DatabricksConnectionArn": f"arn:aws:events:{REGION}:{ACCOUNT}:connection/stepbricks-databricks/"
                                   "81210c42-8af1-456b-9c4a-6ff02fc664ac",
    }
