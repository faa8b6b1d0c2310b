"""Promotion as in seed 004: deploy to QA → run the notebook tests there → approval → deploy to prod.

Nothing touches the prod workspace before the QA tests passed and the approval was found (or
`auto_approve`): a failing QA stage returns before prod's credentials are even read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness.bundles.approval import Approval, find_approval
from harness.bundles.loader import load_bundle
from harness.bundles.model import Bundle
from harness.bundles.operations import DeployResult, RunResult, deploy, open_target, run
from harness.bundles.state import default_state_root
from sim import clock

Stage = Literal["qa_tests_failed", "awaiting_approval", "promoted"]
TESTS_JOB = "notebook_tests"


@dataclass
class PromotionResult:
    stage: Stage
    message: str
    qa: DeployResult
    tests: RunResult
    approval: Approval | None = None
    prod: DeployResult | None = None

    @property
    def promoted(self) -> bool:
        return self.stage == "promoted"


def promote(
    root: Path,
    *,
    source: str = "qa",
    dest: str = "prod",
    tests_job: str = TESTS_JOB,
    auto_approve: bool = False,
    approval_wait_seconds: float = 0.0,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    state_root: Path | None = None,
) -> PromotionResult:
    env = dict(os.environ if env is None else env)
    state_root = state_root or default_state_root(root.resolve())
    qa_session = open_target(root, source, variables=variables, env=env, state_root=state_root)
    qa = deploy(qa_session)
    tests = run(qa_session, tests_job)
    if not tests.succeeded:
        errors = "; ".join(f"{k}: {v}" for k, v in tests.task_errors.items()) or tests.state_message
        return PromotionResult("qa_tests_failed", f"{source} tests failed ({tests.result_state}): {errors}; "
                               f"nothing was deployed to {dest}", qa, tests)  # fmt: skip
    approval = None
    if not auto_approve:
        dest_bundle = load_bundle(root, target=dest, variables=variables, environ=env)
        approval = _wait_for_approval(dest_bundle, state_root, approval_wait_seconds)
        if approval is None:
            return PromotionResult("awaiting_approval", f"{source} tests passed; waiting for approval: run "
                                   f"`stepbricks approve --target {dest}`, then promote again", qa, tests)  # fmt: skip
    prod = deploy(open_target(root, dest, variables=variables, env=env, state_root=state_root))
    return PromotionResult("promoted", f"deployed to {dest}: jobs {prod.jobs}", qa, tests, approval, prod)


def _wait_for_approval(bundle: Bundle, state_root: Path, wait_seconds: float) -> Approval | None:
    deadline = clock.get().monotonic() + wait_seconds
    while True:
        approval = find_approval(bundle, state_root)
        if approval is not None or clock.get().monotonic() >= deadline:
            return approval
        clock.sleep(min(1.0, max(0.0, deadline - clock.get().monotonic())))
