"""An approval holds for the bundle exactly as approved: editing any of its files needs a new one."""

from __future__ import annotations

from pathlib import Path

from harness.bundles import approve, find_approval, load_bundle
from tests.harness.bundles.bundle_factory import MINIMAL, write_bundle


def test_approval_is_found_for_the_unchanged_bundle(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", MINIMAL)
    record = approve(load_bundle(root, target="prod", environ={}), tmp_path / "state", approver="lead")
    assert find_approval(load_bundle(root, target="prod", environ={}), tmp_path / "state") == record


def test_editing_a_notebook_after_approval_invalidates_it(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", MINIMAL)
    approve(load_bundle(root, target="prod", environ={}), tmp_path / "state")
    (root / "src" / "hello.py").write_text("# Databricks notebook source\nprint('changed')\n")
    assert find_approval(load_bundle(root, target="prod", environ={}), tmp_path / "state") is None


def test_an_approval_for_prod_does_not_approve_another_target(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", MINIMAL)
    approve(load_bundle(root, target="prod", environ={}), tmp_path / "state")
    assert find_approval(load_bundle(root, target="qa", environ={}), tmp_path / "state") is None


def test_a_waiting_promotion_sees_an_approval_given_meanwhile(tmp_path: Path) -> None:
    import threading

    from harness.bundles.promotion import _wait_for_approval

    root = write_bundle(tmp_path / "b", MINIMAL)
    bundle = load_bundle(root, target="prod", environ={})
    timer = threading.Timer(0.3, lambda: approve(bundle, tmp_path / "state", approver="lead"))
    timer.start()
    try:
        found = _wait_for_approval(bundle, tmp_path / "state", wait_seconds=30)
    finally:
        timer.cancel()
    assert found is not None and found.approver == "lead"


def test_waiting_without_an_approval_gives_up_after_the_wait(tmp_path: Path) -> None:
    from harness.bundles.promotion import _wait_for_approval

    bundle = load_bundle(write_bundle(tmp_path / "b", MINIMAL), target="prod", environ={})
    assert _wait_for_approval(bundle, tmp_path / "state", wait_seconds=0) is None
