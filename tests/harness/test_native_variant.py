"""`stepbricks run --variant databricks-native`: the pipeline as one Databricks job on a file-arrival trigger.

The job's definition is saved to a running fake workspace through databricks-sdk (which checks its
dynamic value references and trigger as a workspace does), the flight is read back from runs/get-shaped
runs, and one whole CLI flight lands a file and lets the trigger start the job.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from asl.graph import Graph
from harness.deploy import DeployConfig, Deployment, bucket_names
from harness.native_variant import (
    JOB_NAME,
    LANDING_PREFIX,
    ensure_job,
    graph_definition,
    job_spec,
    trace_from_run,
)
from sim.simulator import Simulator
from tests import schedule

pytestmark = pytest.mark.xdist_group(schedule.FLIGHTS_IN_SUBPROCESSES)

ROOT = Path(__file__).resolve().parents[2]
STEPBRICKS = Path(sys.executable).with_name("stepbricks")
RUN_SECONDS = 600


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """A private simulator without a warm cluster: saving jobs needs no Spark, file arrival needs its S3."""
    with Simulator.start(warm_cluster=False) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def deployment(sim: Simulator) -> Deployment:
    from databricks.sdk import WorkspaceClient

    s3 = boto3.client("s3", endpoint_url=sim.aws.endpoint, region_name="us-east-1")
    buckets = bucket_names("")
    for name in buckets.values():
        s3.create_bucket(Bucket=name)
    w = WorkspaceClient(host=sim.databricks.host, token=sim.databricks.token)
    return Deployment(account="123456789012", region="us-east-1", buckets=buckets, topic_arn="", secret_arn="",
                      functions={}, state_machines={}, jobs={}, cluster_id=next(iter(w.clusters.list())).cluster_id,
                      config=DeployConfig())  # fmt: skip


def test_the_pipeline_is_one_job_whose_file_arrival_trigger_watches_the_raw_landing_location(sim, deployment):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient(host=sim.databricks.host, token=sim.databricks.token)
    job_id = ensure_job(sim.env, deployment)
    settings = w.jobs.get(job_id).settings

    assert settings.name == JOB_NAME
    assert settings.trigger.file_arrival.url == f"s3://{deployment.buckets['raw']}/{LANDING_PREFIX}"
    assert settings.trigger.file_arrival.wait_after_last_change_seconds == 60
    tasks = {t.task_key: t for t in settings.tasks}
    assert list(tasks) == ["list_files", "etl", "check_quality", "quality_gate", "train", "evaluate", "model_gate"]
    loop = tasks["etl"].for_each_task
    assert loop.inputs == "{{tasks.list_files.values.files}}"
    assert loop.task.notebook_task.base_parameters["source_uri"] == "{{input}}"
    assert tasks["quality_gate"].condition_task.left == "{{tasks.check_quality.values.passed}}"
    assert [(d.task_key, d.outcome) for d in tasks["train"].depends_on] == [("quality_gate", "true")]
    assert tasks["evaluate"].notebook_task.base_parameters["model_version"] == "{{tasks.train.values.model_version}}"
    assert tasks["model_gate"].condition_task.left == "{{tasks.evaluate.values.gate_passed}}"

    assert ensure_job(sim.env, deployment) == job_id, "deploying again resets the job it made"
    assert [j.job_id for j in w.jobs.list(name=JOB_NAME)] == [job_id]


def test_the_workspace_refuses_the_job_if_a_reference_names_an_unknown_field(sim, deployment):
    """The references in the job are the workspace's to check: a typo is refused when the job is saved."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import InvalidParameterValue

    spec = job_spec(deployment)
    spec["name"] = "native-typo"
    spec.pop("trigger")
    spec["tasks"][2]["notebook_task"]["base_parameters"]["files"] = "{{tasks.list_files.valeus.files}}"
    w = WorkspaceClient(host=sim.databricks.host, token=sim.databricks.token)
    with pytest.raises(InvalidParameterValue):
        w.api_client.do("POST", "/api/2.2/jobs/create", body=spec)


def _task(key: str, kind: str, result: str | None, start: int, **extra: Any) -> dict[str, Any]:
    state = {"life_cycle_state": "TERMINATED" if result else "RUNNING"}
    if result:
        state["result_state"] = result
    return {"task_key": key, "run_id": start, kind: extra.pop(kind, {}), "state": state, "start_time": start * 1000,
            "end_time": (start + 1) * 1000 if result else 0, "attempt_number": 0, **extra}  # fmt: skip


def _run(tasks: list[dict[str, Any]], result: str | None = "SUCCESS") -> dict[str, Any]:
    state = {"life_cycle_state": "TERMINATED", "result_state": result} if result else {"life_cycle_state": "RUNNING"}
    return {"run_id": 77, "start_time": 1000, "state": state, "tasks": tasks}


def _flight(quality: str, model: str | None) -> list[dict[str, Any]]:
    excluded = "EXCLUDED" if quality == "false" else "SUCCESS"
    tasks = [_task("list_files", "notebook_task", "SUCCESS", 1), _task("etl", "for_each_task", "SUCCESS", 2),
             _task("check_quality", "notebook_task", "SUCCESS", 3),
             _task("quality_gate", "condition_task", "SUCCESS", 4, condition_task={"outcome": quality})]  # fmt: skip
    for n, key in enumerate(("train", "evaluate"), 5):
        tasks.append(_task(key, "notebook_task", excluded, n))
    gate = {"outcome": model} if model else {}
    tasks.append(_task("model_gate", "condition_task", excluded, 7, condition_task=gate))
    return tasks


def test_a_run_whose_gates_both_said_true_is_a_succeeded_flight_with_the_step_outputs() -> None:
    outputs = {"check_quality": {"rows_in": 10}, "train": {"model_version": "3"}, "evaluate": {"gate": {"passed": True}}}
    trace = trace_from_run(_run(_flight("true", "true")), outputs)

    assert trace.status == "SUCCEEDED" and trace.error is None
    assert [v.name for v in trace.visits][:4] == ["list_files", "etl", "check_quality", "quality_gate"]
    assert next(v for v in trace.visits if v.name == "quality_gate").output == {"outcome": "true"}
    assert trace.output == {"etl": {"rows_in": 10}, "train": {"model_version": "3"},
                            "evaluate": {"gate": {"passed": True}}}  # fmt: skip


def test_a_false_data_quality_condition_fails_the_flight_though_the_job_run_succeeded() -> None:
    """Databricks ends the run SUCCESS when a condition excludes the rest (excluded tasks count as successful);
    the pipeline did not train, so the flight failed, and says which gate stopped it."""
    trace = trace_from_run(_run(_flight("false", None)), {"check_quality": {"rows_in": 10}})

    assert (trace.status, trace.error) == ("FAILED", "DataQualityRejected")
    assert "quality_gate said false" in trace.cause
    assert all(v.error is None for v in trace.visits), "an excluded task is no failed task"


def test_a_rejected_model_and_a_failed_task_fail_the_flight_naming_them() -> None:
    assert trace_from_run(_run(_flight("true", "false"))).error == "ModelRejected"

    tasks = _flight("true", "true")[:3]
    tasks[1] = _task("etl", "for_each_task", "FAILED", 2, state_message="1 of 2 iterations failed")
    tasks[1]["state"]["state_message"] = "1 of 2 iterations failed"
    trace = trace_from_run(_run(tasks, "FAILED"))
    assert (trace.status, trace.error) == ("FAILED", "FAILED")
    assert trace.cause == "task etl: 1 of 2 iterations failed"


def test_a_running_job_run_is_a_running_flight_with_the_started_tasks_only() -> None:
    tasks = [_task("list_files", "notebook_task", "SUCCESS", 1), _task("etl", "for_each_task", None, 2)]
    tasks.append({**_task("check_quality", "notebook_task", None, 3), "start_time": 0})
    trace = trace_from_run(_run(tasks, None))
    assert trace.status == "RUNNING" and [v.name for v in trace.visits] == ["list_files", "etl"]
    assert trace.visits[1].exited is None


def test_the_report_draws_the_job_as_a_state_graph_with_a_fail_state_per_gate(deployment) -> None:
    definition = graph_definition(job_spec(deployment))
    graph = Graph.from_definition(definition)

    assert graph.start_at == "list_files"
    assert definition["States"]["etl"]["Type"] == "Map"
    assert definition["States"]["quality_gate"]["Default"] == "DataQualityRejected"
    assert definition["States"]["quality_gate"]["Choices"][0]["Next"] == "train"
    assert {"DataQualityRejected", "ModelRejected", "Done"} <= set(graph.states)


@pytest.mark.slow
@pytest.mark.timeout(RUN_SECONDS + 60)
def test_run_variant_databricks_native_flies_the_pipeline_from_a_landed_file_to_success(tmp_path: Path) -> None:
    env = {**os.environ, "STEPBRICKS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    result = subprocess.run(
        [str(STEPBRICKS), "run", "--variant", "databricks-native", "--rows", "1500", "--seed", "7",
         "--state-dir", str(tmp_path / "state")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_SECONDS,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "SUCCEEDED" in out and "variant databricks-native" in out
    assert f"s3://stepbricks-raw/{LANDING_PREFIX}" in out
    for task in ("list_files", "for_each_task", "quality_gate", "train", "evaluate", "model_gate"):
        assert task in out
    assert out.count("TERMINATED SUCCESS") == 1, "one job run, no state machine starting three"
    assert "1500" in out and "1474" in out, "rows in and rows written of the generated file (26 dirty)"
    reports = list((tmp_path / "home" / "reports").glob("*.html"))
    assert len(reports) == 1 and "quality_gate" in reports[0].read_text()


def test_an_unknown_variant_is_refused_naming_databricks_native_among_the_choices() -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, ["run", "--variant", "airflow"])
    assert result.exit_code == 2
    assert "resonate, databricks-native" in " ".join(result.output.split())
