"""`bundle validate`: problems are found before anything reaches a workspace, each with file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bundles import BundleError, load_bundle, validate
from tests.harness.bundles.bundle_factory import MINIMAL, write_bundle


def _validate(tmp_path: Path, jobs_yaml: str) -> str:
    root = write_bundle(tmp_path, {**MINIMAL, "resources/jobs.yml": jobs_yaml})
    with pytest.raises(BundleError) as err:
        validate(load_bundle(root, environ={}))
    return str(err.value)


def test_the_minimal_bundle_is_valid(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path, MINIMAL), environ={})
    assert validate(bundle) is None  # raises BundleError listing every problem otherwise
    assert bundle.jobs


def test_misspelled_job_field_is_an_unknown_field(tmp_path: Path) -> None:
    message = _validate(tmp_path, """
        resources:
          jobs:
            hello:
              name: x
              taks: []
              tasks:
                - task_key: a
                  notebook_task: {notebook_path: ../src/hello.py}
        """)
    assert "resources/jobs.yml: resources.jobs.hello.taks: unknown field (not a field of JobSettings)" in message


def test_dependency_on_a_missing_task_names_the_existing_ones(tmp_path: Path) -> None:
    message = _validate(tmp_path, """
        resources:
          jobs:
            hello:
              tasks:
                - task_key: a
                  notebook_task: {notebook_path: ../src/hello.py}
                - task_key: b
                  depends_on: [{task_key: c}]
                  notebook_task: {notebook_path: ../src/hello.py}
        """)
    assert "resources.jobs.hello.tasks[1].depends_on[0].task_key: task 'c' does not exist in this job (tasks: a, b)" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = _validate(tmp_path, """
        resources:
          jobs:
            hello:
              tasks:
                - task_key: a
                  notebook_task: {notebook_path: ../src/hello.py}
                - task_key: a
                  job_cluster_key: big
            empty:
              name: nothing
        """)
    assert "resources.jobs.hello.tasks[1].task_key: 'a' is used by more than one task" in message
    assert "resources.jobs.hello.tasks[1]: needs exactly one task type" in message
    assert "resources.jobs.hello.tasks[1].job_cluster_key: 'big' is not in job_clusters (none)" in message
    assert "resources.jobs.empty.tasks: a job needs at least one task" in message


def test_reference_to_an_unknown_job_id_is_rejected(tmp_path: Path) -> None:
    message = _validate(tmp_path, """
        resources:
          jobs:
            after:
              tasks:
                - task_key: t
                  run_job_task: {job_id: "${resources.jobs.missing.id}"}
        """)
    assert "resources.jobs.after: reference does not exist: ${resources.jobs.missing.id}" in message


def test_jobs_referring_to_each_other_form_a_cycle(tmp_path: Path) -> None:
    message = _validate(tmp_path, """
        resources:
          jobs:
            a:
              tasks: [{task_key: t, run_job_task: {job_id: "${resources.jobs.b.id}"}}]
            b:
              tasks: [{task_key: t, run_job_task: {job_id: "${resources.jobs.a.id}"}}]
        """)
    assert "jobs refer to each other's ids in a cycle: a -> b -> a" in message
