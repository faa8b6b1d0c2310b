"""start_databricks_job against the fake workspace: one run per execution and step, token from Secrets Manager."""

from __future__ import annotations

import boto3
import pytest

from lambdas import _secrets
from lambdas._databricks import DatabricksClient, RetryPolicy
from lambdas._errors import (
    ConfigurationError,
    DatabricksAuthError,
    DatabricksNotFound,
    DatabricksRateLimited,
    InvalidInput,
)
from lambdas.start_databricks_job import idempotency_token, lambda_handler

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:pipeline:file-0123"


def _event(job_id: int, **overrides):
    event = {
        "job_id": str(job_id),  # as the state machine passes a substituted ${EtlJobId}
        "step": "etl",
        "execution_id": EXECUTION,
        "job_parameters": {"source_uri": "s3://stepbricks-raw/incoming/a.csv", "attempt": 3},
    }
    return event | overrides


def _recording_client(sleeps: list[float], **policy) -> DatabricksClient:
    client = DatabricksClient.from_environment(sleep=sleeps.append, retry=RetryPolicy(**policy))
    return client


def test_idempotency_token_is_stable_per_execution_and_step_and_fits_databricks_limit():
    token = idempotency_token(EXECUTION, "etl")
    assert token == idempotency_token(EXECUTION, "etl")
    assert token != idempotency_token(EXECUTION, "train")
    assert token != idempotency_token(EXECUTION + "-2", "etl")
    assert len(token) <= 64


def test_a_retried_trigger_returns_the_run_it_already_started(databricks, jobs, sdk):
    first = lambda_handler(_event(jobs["single"]))
    again = lambda_handler(_event(jobs["single"]))
    other_step = lambda_handler(_event(jobs["single"], step="etl-rerun"))
    assert again["run_id"] == first["run_id"]
    assert other_step["run_id"] != first["run_id"]
    assert first["job_id"] == jobs["single"]
    assert first["run_page_url"]
    assert isinstance(first["number_in_job"], int)


def test_job_parameters_reach_the_run_as_strings(databricks, jobs, sdk):
    started = lambda_handler(_event(jobs["single"], execution_id=EXECUTION + ":params"))
    run = sdk.jobs.get_run(started["run_id"])
    given = {p.name: p.value for p in run.job_parameters}
    assert given["source_uri"] == "s3://stepbricks-raw/incoming/a.csv"
    assert given["attempt"] == "3"


def test_task_token_is_passed_as_the_task_token_job_parameter(databricks, jobs, sdk):
    started = lambda_handler(_event(jobs["single"], execution_id=EXECUTION + ":cb", task_token="AAAA-token"))
    run = sdk.jobs.get_run(started["run_id"])
    assert {p.name: p.value for p in run.job_parameters}["task_token"] == "AAAA-token"


def test_run_now_answered_429_is_retried_honouring_retry_after(databricks, jobs):
    databricks.faults.http("POST /api/2.*/jobs/run-now", 429, times=2, retry_after=3)
    sleeps: list[float] = []
    started = lambda_handler(
        _event(jobs["single"], execution_id=EXECUTION + ":429"), client=_recording_client(sleeps)
    )
    assert sleeps == [3.0, 3.0]
    assert started["run_id"] > 0


def test_run_now_answered_503_is_retried(databricks, jobs):
    databricks.faults.http("POST /api/2.*/jobs/run-now", 503, times=1, retry_after=2)
    sleeps: list[float] = []
    lambda_handler(_event(jobs["single"], execution_id=EXECUTION + ":503"), client=_recording_client(sleeps))
    assert sleeps == [2.0]


def test_a_rate_limit_outlasting_the_retries_raises_DatabricksRateLimited_for_the_state_machine(
    databricks, jobs
):
    databricks.faults.http("POST /api/2.*/jobs/run-now", 429, times=None, retry_after=1)
    sleeps: list[float] = []
    with pytest.raises(DatabricksRateLimited, match="HTTP 429 TOO_MANY_REQUESTS") as raised:
        lambda_handler(_event(jobs["single"]), client=_recording_client(sleeps, max_attempts=3))
    assert sleeps == [1.0, 1.0]
    assert type(raised.value).__name__ == "DatabricksRateLimited"  # the name Retry's ErrorEquals lists


def test_the_token_comes_from_secrets_manager_not_the_environment(databricks, jobs, monkeypatch):
    """Seed 000 hard-coded the token; here the right token in DATABRICKS_TOKEN does not help."""
    monkeypatch.setenv("DATABRICKS_TOKEN", databricks.token)
    boto3.client("secretsmanager").put_secret_value(
        SecretId="stepbricks/databricks-token", SecretString="dapi-wrong"
    )
    with pytest.raises(DatabricksAuthError) as raised:
        lambda_handler(_event(jobs["single"]))
    assert databricks.token not in str(raised.value)
    assert "dapi-wrong" not in str(raised.value)


def test_the_secret_named_by_DATABRICKS_TOKEN_SECRET_is_used(databricks, jobs, monkeypatch):
    boto3.client("secretsmanager").create_secret(
        Name="dev-stepbricks/databricks-token", SecretString=databricks.token
    )
    boto3.client("secretsmanager").put_secret_value(
        SecretId="stepbricks/databricks-token", SecretString="dapi-wrong"
    )
    monkeypatch.setenv("DATABRICKS_TOKEN_SECRET", "dev-stepbricks/databricks-token")
    assert lambda_handler(_event(jobs["single"], execution_id=EXECUTION + ":named"))["run_id"] > 0


def test_a_rotated_token_is_fetched_again_after_a_403(databricks, jobs):
    sm = boto3.client("secretsmanager")
    sm.put_secret_value(SecretId="stepbricks/databricks-token", SecretString="dapi-old")
    assert (
        _secrets.get_secret_string("stepbricks/databricks-token") == "dapi-old"
    )  # cached, as in a warm container
    sm.put_secret_value(SecretId="stepbricks/databricks-token", SecretString=databricks.token)
    assert lambda_handler(_event(jobs["single"], execution_id=EXECUTION + ":rotated"))["run_id"] > 0


def test_a_missing_job_raises_DatabricksNotFound(databricks):
    with pytest.raises(DatabricksNotFound, match="Job 987654 does not exist"):
        lambda_handler(_event(987654))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"execution_id": None}, "execution_id"),
        ({"step": ""}, "step"),
        ({"job_id": "etl"}, "job_id"),
        ({"job_id": None}, "job_id"),
        ({"job_parameters": ["a"]}, "job_parameters"),
    ],
)
def test_bad_input_raises_InvalidInput_naming_the_field(aws, change, field):
    with pytest.raises(InvalidInput, match=field):
        lambda_handler(_event(1) | change, client=object())  # type: ignore[arg-type]


def test_missing_host_is_a_configuration_error_naming_the_variable(aws, monkeypatch):
    monkeypatch.delenv("DATABRICKS_HOST", raising=False)
    with pytest.raises(ConfigurationError, match="DATABRICKS_HOST"):
        lambda_handler(_event(1))
