"""Seed 004's promotion: QA deploy → the QA notebook tests run as a job in the QA workspace → approval → prod.

The bundle is the project's own QA part (databricks.yml, resources/qa/tests.yml, notebooks_tests/): the
notebook really runs the ETL transforms on Spark in the QA workspace's cluster.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bundles import approve, destroy, load_bundle, open_target, promote
from tests.harness.bundles.conftest import PROJECT_ROOT, Targets

pytestmark = [pytest.mark.xdist_group("bundle_targets"), pytest.mark.slow, pytest.mark.spark]


@pytest.fixture
def qa_bundle(tmp_path: Path) -> Path:
    """The project's bundle with only its QA tests job included (the pipeline jobs need the ML notebooks)."""
    root = tmp_path / "bundle"
    (root / "resources").mkdir(parents=True)
    text = (PROJECT_ROOT / "databricks.yml").read_text()
    assert "  - resources/*.yml\n" in text
    (root / "databricks.yml").write_text(text.replace("  - resources/*.yml\n", ""))
    shutil.copytree(PROJECT_ROOT / "resources" / "qa", root / "resources" / "qa")
    shutil.copytree(PROJECT_ROOT / "notebooks_tests", root / "notebooks_tests")
    return root


@pytest.fixture
def clean(bundle_targets: Targets, qa_bundle: Path, tmp_path: Path) -> Iterator[None]:
    yield
    for target in ("qa", "prod"):
        destroy(open_target(qa_bundle, target, env=bundle_targets.env, state_root=tmp_path / "state"))


def _stepbricks_jobs(targets: Targets, target: str) -> list[str]:
    return [n for n in targets.job_names(target) if n.startswith("stepbricks-")]


def test_promotion_waits_for_approval_then_deploys_to_prod(
    qa_bundle: Path, bundle_targets: Targets, tmp_path: Path, clean: None
) -> None:
    state = tmp_path / "state"
    waiting = promote(qa_bundle, env=bundle_targets.env, state_root=state)
    assert waiting.stage == "awaiting_approval", waiting.message
    assert waiting.tests.succeeded and "passed" in (waiting.tests.task_results["etl_transforms"] or "")
    assert _stepbricks_jobs(bundle_targets, "prod") == []

    approve(load_bundle(qa_bundle, target="prod", environ=bundle_targets.env), state, approver="lead")
    promoted = promote(qa_bundle, env=bundle_targets.env, state_root=state)
    assert promoted.stage == "promoted", promoted.message
    assert promoted.approval is not None and promoted.approval.approver == "lead"
    assert _stepbricks_jobs(bundle_targets, "prod") == ["stepbricks-notebook-tests"]


def test_nothing_reaches_prod_when_an_injected_fault_fails_the_qa_tests(
    qa_bundle: Path, bundle_targets: Targets, tmp_path: Path, clean: None
) -> None:
    qa = bundle_targets.workspaces["qa"]
    fault = qa.faults.task("FAILED", job_name="stepbricks-notebook-tests", message="injected: QA cluster lost")
    try:
        result = promote(qa_bundle, env=bundle_targets.env, state_root=tmp_path / "state", auto_approve=True)
    finally:
        qa.faults.remove(fault.fault_id)
    assert result.stage == "qa_tests_failed"
    assert result.tests.result_state == "FAILED"
    assert result.prod is None
    assert bundle_targets.job_names("prod") == []


def test_nothing_reaches_prod_when_a_bad_variable_fails_a_notebook_assertion(
    qa_bundle: Path, bundle_targets: Targets, tmp_path: Path, clean: None
) -> None:
    result = promote(qa_bundle, env=bundle_targets.env, state_root=tmp_path / "state", auto_approve=True,
                     variables={"qa_min_valid_rows": "99"})  # fmt: skip
    assert result.stage == "qa_tests_failed"
    assert "expected at least 99 valid rows" in result.message
    assert bundle_targets.job_names("prod") == []
