"""`bundle deploy | run | destroy` against fake workspaces: idempotent by key, one workspace per target."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bundles import BundleError, deploy, destroy, open_target
from harness.bundles.auth import read_token
from harness.bundles.state import DeploymentState
from tests.harness.bundles.bundle_factory import MINIMAL, write_bundle
from tests.harness.bundles.conftest import Targets

pytestmark = pytest.mark.xdist_group("bundle_targets")


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle", MINIMAL)


def test_deploy_creates_jobs_then_resets_them_by_key(demo: Path, bundle_targets: Targets, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = deploy(open_target(demo, "qa", env=bundle_targets.env, state_root=state))
    assert sorted(first.created) == ["after", "hello"] and first.updated == []
    second = deploy(open_target(demo, "qa", env=bundle_targets.env, state_root=state))
    assert second.created == [] and sorted(second.updated) == ["after", "hello"]
    assert second.jobs == first.jobs
    assert bundle_targets.job_names("qa").count("demo-hello-qa") == 1
    destroy(open_target(demo, "qa", env=bundle_targets.env, state_root=state))


def test_deploy_uploads_notebooks_and_rewrites_paths_and_job_ids(demo: Path, bundle_targets: Targets, tmp_path: Path) -> None:
    from databricks.sdk import WorkspaceClient

    session = open_target(demo, "qa", env=bundle_targets.env, state_root=tmp_path / "state")
    result = deploy(session)
    ws = bundle_targets.workspaces["qa"]
    w = WorkspaceClient(host=ws.host, token=ws.token, auth_type="pat")
    hello = w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": result.jobs["hello"]})["settings"]
    notebook = hello["tasks"][0]["notebook_task"]["notebook_path"]
    assert notebook == f"{session.bundle.root_path}/files/src/hello"
    assert w.workspace.get_status(notebook).object_type.value == "NOTEBOOK"
    assert hello["parameters"] == [{"name": "greeting", "default": "hello-qa"}]
    after = w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": result.jobs["after"]})["settings"]
    assert after["tasks"][0]["run_job_task"]["job_id"] == result.jobs["hello"]
    destroy(session)


def test_targets_are_isolated_in_their_own_workspaces(demo: Path, bundle_targets: Targets, tmp_path: Path) -> None:
    state = tmp_path / "state"
    deploy(open_target(demo, "qa", env=bundle_targets.env, state_root=state))
    assert "demo-hello-qa" in bundle_targets.job_names("qa")
    assert not [n for n in bundle_targets.job_names("prod") if n.startswith("demo-")]
    deploy(open_target(demo, "prod", env=bundle_targets.env, state_root=state))
    assert "demo-hello-prod" in bundle_targets.job_names("prod")
    assert "demo-hello-prod" not in bundle_targets.job_names("qa")
    for target in ("qa", "prod"):
        destroy(open_target(demo, target, env=bundle_targets.env, state_root=state))


def test_a_job_deleted_in_the_workspace_is_created_again(demo: Path, bundle_targets: Targets, tmp_path: Path) -> None:
    state = tmp_path / "state"
    session = open_target(demo, "qa", env=bundle_targets.env, state_root=state)
    first = deploy(session)
    session.client.api_client.do("POST", "/api/2.1/jobs/delete", body={"job_id": first.jobs["hello"]})
    second = deploy(session)
    assert second.created == ["hello"] and second.jobs["hello"] != first.jobs["hello"]
    destroy(session)


def test_destroy_removes_jobs_and_state(demo: Path, bundle_targets: Targets, tmp_path: Path) -> None:
    state = tmp_path / "state"
    session = open_target(demo, "qa", env=bundle_targets.env, state_root=state)
    deploy(session)
    assert sorted(destroy(session)) == ["after", "hello"]
    assert not [n for n in bundle_targets.job_names("qa") if n.startswith("demo-")]
    assert DeploymentState.load(state, "qa") is None


def test_a_target_without_its_token_secret_says_which_secret(demo: Path, bundle_targets: Targets) -> None:
    env = {**bundle_targets.env, "DATABRICKS_HOST_DEV": bundle_targets.workspaces["qa"].host}
    with pytest.raises(BundleError, match=r"target dev: cannot read the workspace token from Secrets Manager secret "
                                          r"'stepbricks/dev/databricks-token' \(ResourceNotFoundException\)"):
        open_target(demo, "dev", env=env, variables={"cluster_id": "x"})


def test_the_missing_secret_error_names_the_command_that_stores_it(demo: Path, bundle_targets: Targets) -> None:
    env = {**bundle_targets.env, "DATABRICKS_HOST_DEV": bundle_targets.workspaces["qa"].host}
    with pytest.raises(BundleError, match=r"aws secretsmanager create-secret --name stepbricks/dev/databricks-token"):
        open_target(demo, "dev", env=env, variables={"cluster_id": "x"})
    with pytest.raises(BundleError, match=r"target local: .* start the simulator with `stepbricks up` \(it stores"):
        read_token("never-stored/token", "local", env)
