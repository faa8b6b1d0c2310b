"""etl.arrivals: what the Databricks-native job's first task and its quality task decide, on a local store."""

from __future__ import annotations

from pathlib import Path

from etl.arrivals import batch_quality, new_files
from etl.batches import locate
from etl.objects import LocalOrS3Store


def _roots(tmp_path: Path) -> dict[str, str]:
    return {"processed_root": str(tmp_path / "processed"), "quarantine_root": str(tmp_path / "quarantine")}


def _commit(store: LocalOrS3Store, uri: str, roots: dict[str, str], *, failed: tuple[str, ...] = (),
            rows: tuple[int, int, int] = (10, 9, 1)) -> None:  # fmt: skip
    """Write the manifest `etl.pipeline` commits a batch with (the fields the arrivals read)."""
    location = locate(uri, store.version(uri), **roots)
    checks = {name: {"passed": name not in failed} for name in ("rows_balance", "output_not_empty", *failed)}
    store.put_json(location.manifest_uri, {
        "batch_id": location.batch_id, "rows_in": rows[0], "rows_written": rows[1], "rows_quarantined": rows[2],
        "dq": {"passed": not failed, "checks": checks}})  # fmt: skip


def test_new_files_are_the_landed_data_files_without_a_committed_batch(tmp_path: Path) -> None:
    store, roots = LocalOrS3Store(), _roots(tmp_path)
    landing = tmp_path / "landing"
    for name in ("a.csv", "b.csv", "_SUCCESS", "sub/c.json"):
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_text("customer_id\n1\n")
    _commit(store, str(landing / "a.csv"), roots)

    assert new_files(store, str(landing), **roots) == [str(landing / "b.csv"), str(landing / "sub/c.json")]


def test_a_processed_file_that_changed_is_new_again(tmp_path: Path) -> None:
    store, roots = LocalOrS3Store(), _roots(tmp_path)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text("customer_id\n1\n")
    _commit(store, str(landing / "a.csv"), roots)
    assert new_files(store, str(landing), **roots) == []

    (landing / "a.csv").write_text("customer_id\n1\n2\n")  # a new version: its batch id differs
    assert new_files(store, str(landing), **roots) == [str(landing / "a.csv")]


def test_batch_quality_sums_the_batches_and_passes_only_when_every_check_passed(tmp_path: Path) -> None:
    store, roots = LocalOrS3Store(), _roots(tmp_path)
    files = []
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(name)
        files.append(str(tmp_path / name))
    _commit(store, files[0], roots, rows=(10, 9, 1))
    _commit(store, files[1], roots, rows=(20, 20, 0))

    good = batch_quality(store, files, **roots)
    assert (good["passed"], good["rows_in"], good["rows_written"], good["rows_quarantined"]) == (True, 30, 29, 1)
    assert good["failed_checks"] == {} and len(good["batches"]) == 2

    _commit(store, files[1], roots, failed=("quarantine_share",))
    bad = batch_quality(store, files, **roots)
    assert bad["passed"] is False and bad["failed_checks"] == {files[1]: ["quarantine_share"]}


def test_a_file_without_a_committed_batch_or_no_file_at_all_fails_the_quality(tmp_path: Path) -> None:
    store, roots = LocalOrS3Store(), _roots(tmp_path)
    (tmp_path / "a.csv").write_text("a")
    missing = batch_quality(store, [str(tmp_path / "a.csv")], **roots)
    assert missing["passed"] is False and missing["failed_checks"] == {str(tmp_path / "a.csv"): ["no committed batch"]}
    assert batch_quality(store, [], **roots)["passed"] is False
