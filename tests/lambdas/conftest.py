"""AWS through moto in-process (`mock_aws`) and Databricks through the real fake workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from lambdas import _secrets
from sim import boto_clients

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every boto3 client the handlers build talks to moto, in this process."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _secrets.clear_cache()
    with mock_aws():
        # mock_aws clears boto3's default session, so each test's first `boto3.client` parsed botocore's
        # data files again: 14% of the test processes' CPU. A default session on the process's shared loader
        # builds the same clients (moto intercepts every botocore session) from data already parsed.
        boto3.DEFAULT_SESSION = boto_clients.session()
        yield
    _secrets.clear_cache()


@pytest.fixture
def s3(aws: None):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket="stepbricks-raw")
    return client


@pytest.fixture(scope="session")
def workspace(shared_workspace):
    """The session's shared fake workspace (tests/conftest.py): one default cluster start, not one more."""
    return shared_workspace


@pytest.fixture(autouse=True)
def _reset_workspace_faults(request: pytest.FixtureRequest) -> None:
    if "workspace" in request.fixturenames:
        request.getfixturevalue("workspace").faults.reset()


@pytest.fixture
def databricks(workspace, aws: None, monkeypatch: pytest.MonkeyPatch):
    """The Lambdas' configuration on AWS: host in DATABRICKS_HOST, token only in Secrets Manager."""
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="stepbricks/databricks-token", SecretString=workspace.token
    )
    monkeypatch.setenv("DATABRICKS_HOST", workspace.host)
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    monkeypatch.delenv("DATABRICKS_TOKEN_SECRET", raising=False)
    return workspace


@pytest.fixture(scope="session")
def sdk(workspace, tmp_path_factory: pytest.TempPathFactory):
    """databricks-sdk against the fake workspace, to set up jobs and wait for runs as a user would."""
    from databricks.sdk import WorkspaceClient

    config_file = Path(tmp_path_factory.mktemp("sdk")) / "databrickscfg"
    config_file.write_text("")
    return WorkspaceClient(host=workspace.host, token=workspace.token, config_file=str(config_file))


def _notebook(sdk, path: str, source: str) -> str:
    from databricks.sdk.service.workspace import ImportFormat, Language

    sdk.workspace.mkdirs(path.rsplit("/", 1)[0])
    sdk.workspace.upload(
        path,
        ("# Databricks notebook source\n" + source).encode(),
        format=ImportFormat.SOURCE,
        language=Language.PYTHON,
        overwrite=True,
    )
    return path


@pytest.fixture(scope="session")
def jobs(sdk) -> dict[str, int]:
    """Jobs whose notebooks exit with JSON (one task, two tasks) or fail."""
    from databricks.sdk.service.jobs import JobParameterDefinition, NotebookTask, Task, TaskDependency

    exit_json = _notebook(
        sdk,
        "/Shared/lambdas-tests/exit_json",
        "import json\n"
        "# COMMAND ----------\n"
        'dbutils.notebook.exit(json.dumps({"output_uri": "s3://stepbricks-processed/processed",'
        ' "source_uri": dbutils.widgets.get("source_uri"), "task": "main"}))\n',
    )
    task_b = _notebook(
        sdk, "/Shared/lambdas-tests/task_b", 'import json\ndbutils.notebook.exit(json.dumps({"task": "b"}))\n'
    )
    fails = _notebook(sdk, "/Shared/lambdas-tests/fails", 'raise ValueError("bad input data")\n')
    params = [
        JobParameterDefinition(name="source_uri", default=""),
        JobParameterDefinition(name="task_token", default=""),
        JobParameterDefinition(name="attempt", default="0"),
    ]
    return {
        "single": sdk.jobs.create(
            name="lambdas-single",
            parameters=params,
            tasks=[Task(task_key="main", notebook_task=NotebookTask(notebook_path=exit_json))],
        ).job_id,
        "multi": sdk.jobs.create(
            name="lambdas-multi",
            parameters=params,
            tasks=[
                Task(task_key="a", notebook_task=NotebookTask(notebook_path=exit_json)),
                Task(
                    task_key="b",
                    depends_on=[TaskDependency(task_key="a")],
                    notebook_task=NotebookTask(notebook_path=task_b),
                ),
            ],
        ).job_id,
        "fails": sdk.jobs.create(
            name="lambdas-fails",
            tasks=[Task(task_key="main", notebook_task=NotebookTask(notebook_path=fails))],
        ).job_id,
    }


@pytest.fixture
def wait_for(sdk):
    """Block until a run terminates, with the SDK's own waiter (it polls runs/get)."""
    from datetime import timedelta

    def wait(run_id: int) -> None:
        sdk.jobs.wait_get_run_job_terminated_or_skipped(run_id=run_id, timeout=timedelta(minutes=5))

    return wait
