"""The project's own bundle: databricks.yml + resources/ describe the pipeline's jobs for every target."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.bundle import load_jobs
from harness.bundles import deploy, destroy, load_bundle, open_target, validate
from harness.clients import aws_client
from tests.harness.bundles.conftest import PROJECT_ROOT, Targets

pytestmark = pytest.mark.xdist_group("bundle_targets")

PIPELINE_JOBS = {"etl", "train", "evaluate"}


def test_the_project_bundle_validates_for_every_target() -> None:
    for target in ("local", "dev", "qa", "prod"):
        bundle = load_bundle(PROJECT_ROOT, target=target, environ={}, user="ci@example.com")
        validate(bundle)
        assert {*PIPELINE_JOBS, "notebook_tests"} == set(bundle.jobs)
        assert bundle.variables["token_secret"] == f"stepbricks/{target}/databricks-token"
        assert bundle.target.mode == ("development" if target in ("local", "dev") else "production")


def test_harness_deploy_still_reads_the_three_pipeline_jobs_with_shared_notebook_paths() -> None:
    jobs = load_jobs(PROJECT_ROOT / "resources", {"cluster_id": "c-1", "bucket_prefix": "t-"})
    assert set(jobs) == PIPELINE_JOBS  # resources/qa/ (the QA tests job) is not the pipeline's
    paths = {k: j["tasks"][0]["notebook_task"]["notebook_path"] for k, j in jobs.items()}
    assert paths == {"etl": "/Shared/stepbricks/etl", "train": "/Shared/stepbricks/train",
                     "evaluate": "/Shared/stepbricks/evaluate"}  # fmt: skip
    assert all(j["tasks"][0]["existing_cluster_id"] == "c-1" for j in jobs.values())
    assert {"name": "processed_root", "default": "s3://t-stepbricks-processed/customers"} in jobs["etl"]["parameters"]


def test_pipeline_jobs_name_their_deployment_and_enable_queueing() -> None:
    jobs = load_jobs(PROJECT_ROOT / "resources", {"cluster_id": "c-1", "bucket_prefix": "t-"})
    assert all(j["queue"] == {"enabled": True} for j in jobs.values())
    for key in ("train", "evaluate"):  # MLflow experiment and artifact bucket follow the deployment
        assert {"name": "resource_prefix", "default": "t-"} in jobs[key]["parameters"]


# A task that holds its run RUNNING, at the cost of a sleeping thread, until its gate file appears.
GATED_NOTEBOOK = """# Databricks notebook source
import os, time
gate, deadline = dbutils.widgets.get("gate"), time.time() + 300
while not os.path.exists(gate) and time.time() < deadline:
    time.sleep(0.05)
assert os.path.exists(gate), f"the test never opened {gate}"
"""
BURST_SECONDS = 240  # the first use of the shared cluster starts its Spark (25-40 s on a busy machine)


def _burst_job(w, key: str, queue: bool, tmp_path: Path) -> tuple[int, int]:
    """A job with the project's own concurrency settings for `key` (queueing as given) and a cheap,
    gated notebook on the workspace's all-purpose cluster; returns (job id, max_concurrent_runs)."""
    from databricks.sdk.service import jobs as j
    from databricks.sdk.service.workspace import ImportFormat, Language

    settings = load_jobs(PROJECT_ROOT / "resources", {"cluster_id": "c-1", "bucket_prefix": "t-"})[key]
    path = f"/Shared/bundle-burst-{tmp_path.name}/gated"
    w.workspace.mkdirs(path.rsplit("/", 1)[0])
    w.workspace.upload(path, GATED_NOTEBOOK.encode(), format=ImportFormat.SOURCE, language=Language.PYTHON,
                       overwrite=True)
    cluster = next(c.cluster_id for c in w.clusters.list() if c.cluster_name == "stepbricks-default")
    job = w.jobs.create(
        name=f"burst-{key}-{'queued' if queue else 'skipped'}", max_concurrent_runs=settings["max_concurrent_runs"],
        queue=j.QueueSettings(enabled=queue), parameters=[j.JobParameterDefinition(name="gate", default="")],
        tasks=[j.Task(task_key="hold", existing_cluster_id=cluster, notebook_task=j.NotebookTask(notebook_path=path))],
    )
    return job.job_id, settings["max_concurrent_runs"]


def _states(w, run_ids: list[int]) -> list[str]:
    return [w.jobs.get_run(run_id).state.life_cycle_state.value for run_id in run_ids]


def _wait_for(w, run_ids: list[int], wanted: str, *, what: str) -> None:
    deadline = time.monotonic() + BURST_SECONDS
    while (states := _states(w, run_ids)) != [wanted] * len(run_ids):
        assert time.monotonic() < deadline, f"{what}: never all {wanted} in {BURST_SECONDS} s, now {states}"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["etl"])  # the three pipeline jobs share the same settings (checked above)
def test_a_burst_past_max_concurrent_runs_queues_then_runs_and_is_skipped_when_queueing_is_off(
    shared_workspace, tmp_path: Path, key: str
) -> None:
    """Databricks' Jobs API: past max_concurrent_runs, a run of a job with `queue.enabled` waits QUEUED and
    runs once a slot frees; without it the run ends SKIPPED at once. 100 files uploaded at once
    (bench/bench_load.py) failed most executions that way before the pipeline's jobs enabled queueing."""
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient(host=shared_workspace.host, token=shared_workspace.token, auth_type="pat")
    gate, late_gate = tmp_path / "gate", tmp_path / "late-gate"

    job_id, limit = _burst_job(w, key, True, tmp_path)
    burst = [w.jobs.run_now(job_id, job_parameters={"gate": str(gate)}).run_id for _ in range(limit)]
    late = w.jobs.run_now(job_id, job_parameters={"gate": str(late_gate)}).run_id
    _wait_for(w, burst, "RUNNING", what=f"the first {limit} runs")
    assert _states(w, [late]) == ["QUEUED"], "the run past the limit must wait while every slot is taken"
    gate.touch()
    _wait_for(w, [late], "RUNNING", what="the queued run once the burst ended")
    late_gate.touch()
    _wait_for(w, [*burst, late], "TERMINATED", what="the burst and the queued run")
    assert {w.jobs.get_run(r).state.result_state.value for r in [*burst, late]} == {"SUCCESS"}

    job_id, limit = _burst_job(w, key, False, tmp_path)
    gate.unlink()
    burst = [w.jobs.run_now(job_id, job_parameters={"gate": str(gate)}).run_id for _ in range(limit)]
    skipped = w.jobs.get_run(w.jobs.run_now(job_id, job_parameters={"gate": str(gate)}).run_id)
    assert skipped.state.life_cycle_state.value == "SKIPPED"
    assert skipped.state.result_state.value == "MAXIMUM_CONCURRENT_RUNS_REACHED"
    assert skipped.status.termination_details.code.value == "MAX_CONCURRENT_RUNS_EXCEEDED"
    gate.touch()
    _wait_for(w, burst, "TERMINATED", what=f"the {limit} runs within the limit")


def test_the_project_bundle_deploys_in_development_mode_with_the_cluster_looked_up(
    bundle_targets: Targets, tmp_path: Path
) -> None:
    ws = bundle_targets.workspaces["qa"]
    env = {**bundle_targets.env, "DATABRICKS_HOST_LOCAL": ws.host, "DATABRICKS_USER": "ada@example.com"}
    sm = aws_client("secretsmanager", env)
    if not sm.list_secrets(Filters=[{"Key": "name", "Values": ["stepbricks/local/databricks-token"]}])["SecretList"]:
        sm.create_secret(Name="stepbricks/local/databricks-token", SecretString=ws.token)
    session = open_target(PROJECT_ROOT, "local", env=env, state_root=tmp_path / "state")
    result = deploy(session)
    try:
        w = session.client
        clusters = {c.cluster_name: c.cluster_id for c in w.clusters.list()}
        etl = w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": result.jobs["etl"]})["settings"]
        user = session.bundle.user
        assert etl["name"] == f"[dev {user.split('@')[0]}] stepbricks-etl"
        assert etl["tasks"][0]["existing_cluster_id"] == clusters["stepbricks-default"]
        notebook = etl["tasks"][0]["notebook_task"]["notebook_path"]
        assert notebook == f"/Workspace/Users/{user}/.bundle/stepbricks/local/files/etl/notebooks/etl"
        assert w.workspace.get_status(notebook).object_type.value == "NOTEBOOK"
        assert sorted(result.created) == sorted([*PIPELINE_JOBS, "notebook_tests"])
    finally:
        destroy(session)
