"""The project's own bundle: databricks.yml + resources/ describe the pipeline's jobs for every target."""

from __future__ import annotations

from pathlib import Path

from harness.bundle import load_jobs
from harness.bundles import deploy, destroy, load_bundle, open_target, validate
from harness.clients import aws_client
from tests.harness.bundles.conftest import PROJECT_ROOT, Targets

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


def test_pipeline_jobs_queue_a_burst_past_their_concurrency_limit_and_name_their_deployment() -> None:
    """Without `queue`, Databricks SKIPS a run past max_concurrent_runs: 100 files uploaded at once
    (bench/bench_load.py) failed most executions that way."""
    jobs = load_jobs(PROJECT_ROOT / "resources", {"cluster_id": "c-1", "bucket_prefix": "t-"})
    assert all(j["queue"] == {"enabled": True} for j in jobs.values())
    for key in ("train", "evaluate"):  # MLflow experiment and artifact bucket follow the deployment
        assert {"name": "resource_prefix", "default": "t-"} in jobs[key]["parameters"]


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
