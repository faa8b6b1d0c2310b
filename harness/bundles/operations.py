"""`bundle deploy | run | destroy` against the target's workspace, with databricks-sdk.

Deploy mirrors the CLI's order: upload the bundle's files under `workspace.file_path`, then create or
reset each job by its key (a job after the jobs whose ids it refers to), delete jobs that left the
bundle, and save the key → id state after every change so an interrupted deploy resumes cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.bundles.auth import WorkspaceCredentials, credentials_for
from harness.bundles.errors import BundleError
from harness.bundles.interpolate import resolve_job_ids
from harness.bundles.loader import load_bundle
from harness.bundles.model import Bundle, LocalFile
from harness.bundles.state import DeploymentState, default_state_root
from harness.bundles.validate import deploy_order, validate
from sim import clock

TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


@dataclass(frozen=True)
class Session:
    """A bundle resolved for one target, with the client of that target's workspace."""

    bundle: Bundle
    credentials: WorkspaceCredentials
    client: Any
    state_root: Path


@dataclass
class DeployResult:
    target: str
    host: str
    jobs: dict[str, int]
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    key: str
    job_id: int
    run_id: int
    life_cycle_state: str
    result_state: str | None
    state_message: str
    run_page_url: str
    task_errors: dict[str, str] = field(default_factory=dict)
    task_results: dict[str, str | None] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.life_cycle_state == "TERMINATED" and self.result_state == "SUCCESS"


def open_target(
    root: Path,
    target: str | None,
    *,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    state_root: Path | None = None,
) -> Session:
    """Load the bundle for `target`, authenticate to its workspace, resolve the current user and lookups."""
    env = dict(os.environ if env is None else env)
    offline = load_bundle(root, target=target, variables=variables, environ=env)
    credentials = credentials_for(offline, env)
    client = credentials.client()
    user = _current_user(client) or offline.user
    bundle = load_bundle(root, target=offline.target.name, variables=variables, environ=env, user=user,
                         lookup=lambda kind, name: _lookup(client, kind, name))  # fmt: skip
    validate(bundle)
    return Session(bundle, credentials, client, state_root or default_state_root(bundle.root))


def deploy(session: Session) -> DeployResult:
    bundle, w = session.bundle, session.client
    state = DeploymentState.load(session.state_root, bundle.target.name) or DeploymentState(
        bundle=bundle.name, target=bundle.target.name, host=session.credentials.host, root_path=bundle.root_path
    )
    state.host, state.root_path = session.credentials.host, bundle.root_path
    result = DeployResult(target=bundle.target.name, host=session.credentials.host, jobs={})
    result.uploaded = _upload(w, bundle)
    for key in deploy_order(bundle):
        job = bundle.jobs[key]
        settings = resolve_job_ids(_workspace_paths(job.settings, bundle), state.jobs, f"{job.declared_in}: resources.jobs.{key}")
        job_id = state.jobs.get(key)
        if job_id is not None and _job_exists(w, job_id):
            w.api_client.do("POST", "/api/2.1/jobs/reset", body={"job_id": job_id, "new_settings": settings})
            result.updated.append(key)
        else:  # never deployed, deleted behind our back, or a new workspace: create it (again)
            job_id = int(w.api_client.do("POST", "/api/2.1/jobs/create", body=settings)["job_id"])
            result.created.append(key)
        state.jobs[key] = job_id
        state.save(session.state_root)
    for key in sorted(set(state.jobs) - set(bundle.jobs)):
        _delete_job(w, state.jobs.pop(key))
        result.deleted.append(key)
        state.save(session.state_root)
    result.jobs = dict(state.jobs)
    return result


def run(session: Session, key: str, *, params: Mapping[str, str] | None = None, timeout: float = 600.0,
        poll_seconds: float = 0.5) -> RunResult:  # fmt: skip
    """Run-now a deployed job by key and wait for it to end (the CLI's `bundle run` waits too)."""
    bundle, w = session.bundle, session.client
    if key not in bundle.jobs:
        raise BundleError(f"{bundle.root / 'databricks.yml'}: resources.jobs.{key}: no such job (jobs: {', '.join(bundle.jobs)})")
    state = DeploymentState.load(session.state_root, bundle.target.name)
    if state is None or key not in state.jobs:
        raise BundleError(f"resources.jobs.{key}: not deployed to target {bundle.target.name}: "
                          f"run `stepbricks bundle deploy --target {bundle.target.name}` first")  # fmt: skip
    body: dict[str, Any] = {"job_id": state.jobs[key]}
    if params:
        body["job_parameters"] = dict(params)
    run_id = int(w.api_client.do("POST", "/api/2.1/jobs/run-now", body=body)["run_id"])
    deadline = clock.get().monotonic() + timeout
    while True:
        info = w.api_client.do("GET", "/api/2.1/jobs/runs/get", query={"run_id": run_id})
        if info["state"]["life_cycle_state"] in TERMINAL:
            break
        if clock.get().monotonic() > deadline:
            raise BundleError(f"resources.jobs.{key}: run {run_id} did not end within {timeout:.0f} s ({info['state']})")
        clock.sleep(poll_seconds)
    result = RunResult(key=key, job_id=state.jobs[key], run_id=run_id, life_cycle_state=info["state"]["life_cycle_state"],
                       result_state=info["state"].get("result_state"), state_message=info["state"].get("state_message", ""),
                       run_page_url=info.get("run_page_url", ""))  # fmt: skip
    for task in info.get("tasks", []):
        output = w.api_client.do("GET", "/api/2.1/jobs/runs/get-output", query={"run_id": task["run_id"]})
        if output.get("error"):
            result.task_errors[task["task_key"]] = output["error"]
        result.task_results[task["task_key"]] = (output.get("notebook_output") or {}).get("result")
    return result


def destroy(session: Session) -> list[str]:
    """Delete the target's jobs and its workspace root folder; forget the state. Returns the deleted keys."""
    from databricks.sdk.errors import NotFound

    bundle, w = session.bundle, session.client
    state = DeploymentState.load(session.state_root, bundle.target.name)
    deleted: list[str] = []
    for key, job_id in sorted((state.jobs if state else {}).items()):
        _delete_job(w, job_id)
        deleted.append(key)
    try:
        w.workspace.delete(bundle.root_path, recursive=True)
    except NotFound:
        pass
    DeploymentState.remove(session.state_root, bundle.target.name)
    return deleted


# --- helpers ----------------------------------------------------------------------------------------


def _upload(w: Any, bundle: Bundle) -> list[str]:
    from databricks.sdk.service.workspace import ImportFormat, Language

    uploaded: list[str] = []
    for local in sorted(bundle.local_files(), key=lambda f: f.relative):
        remote = local.remote(bundle.file_path)
        w.workspace.mkdirs(remote.rsplit("/", 1)[0])
        content = local.path.read_bytes()
        if local.notebook:
            w.workspace.upload(remote, content, format=ImportFormat.SOURCE, language=Language.PYTHON, overwrite=True)
        else:
            w.workspace.upload(remote, content, format=ImportFormat.AUTO, overwrite=True)
        uploaded.append(remote)
    return uploaded


def _workspace_paths(value: Any, bundle: Bundle) -> Any:
    if isinstance(value, LocalFile):
        return value.remote(bundle.file_path)
    if isinstance(value, dict):
        return {k: _workspace_paths(v, bundle) for k, v in value.items()}
    if isinstance(value, list):
        return [_workspace_paths(v, bundle) for v in value]
    return value


def _job_exists(w: Any, job_id: int) -> bool:
    """`jobs/get` answers 400 "Job N does not exist.", which databricks-sdk's error overrides
    (`databricks/sdk/errors/overrides.py`) turn into `ResourceDoesNotExist` for this endpoint only."""
    from databricks.sdk.errors import NotFound

    try:
        w.api_client.do("GET", "/api/2.1/jobs/get", query={"job_id": job_id})
        return True
    except NotFound:
        return False


def _delete_job(w: Any, job_id: int) -> None:
    if _job_exists(w, job_id):  # already gone is fine: destroy is idempotent
        w.api_client.do("POST", "/api/2.1/jobs/delete", body={"job_id": job_id})


def _current_user(w: Any) -> str | None:
    """`${workspace.current_user.userName}` from SCIM Me; None when the workspace does not serve it."""
    from databricks.sdk.errors import DatabricksError

    try:
        return w.current_user.me().user_name
    except DatabricksError:
        return None


def _lookup(w: Any, kind: str, name: str) -> str:
    names: list[str] = []
    for cluster in w.clusters.list():
        names.append(cluster.cluster_name or "")
        if cluster.cluster_name == name:
            return cluster.cluster_id
    raise BundleError(f"variables: lookup of {kind} '{name}': no {kind} of that name in the workspace "
                      f"(found: {', '.join(names) or 'none'})")  # fmt: skip
