"""The day's arrivals of the Databricks-native pipeline: which landed files still need ETL, and whether the
batch they made is fit for training.

The native job (one multi-task Databricks job started by a file-arrival trigger) gets no file name from
its trigger: Databricks only says *that* files arrived under the location. So the job's first task lists
the location and keeps the files whose current version has no committed batch yet (the ETL's manifest,
`etl.batches.locate`, is keyed on the file and its version), and after the per-file ETL a quality task
reads those batches' manifests back for the job's data-quality condition.
"""

from __future__ import annotations

from etl.batches import locate
from etl.objects import LocalOrS3Store, is_data_file


def new_files(
    store: LocalOrS3Store, landing_uri: str, *, processed_root: str, quarantine_root: str
) -> list[str]:
    """Data files under `landing_uri` whose current version has no committed batch under `processed_root`."""
    pending = []
    for uri in store.list(landing_uri):
        if not is_data_file(uri):
            continue
        location = locate(
            uri, store.version(uri), processed_root=processed_root, quarantine_root=quarantine_root
        )
        if store.get_json(location.manifest_uri) is None:
            pending.append(uri)
    return pending


def batch_quality(
    store: LocalOrS3Store, files: list[str], *, processed_root: str, quarantine_root: str
) -> dict:
    """The files' committed batches summed up: row counts, the failed data-quality checks per file, and
    `passed` (every file has a committed batch and every batch passed its checks)."""
    totals = {"rows_in": 0, "rows_written": 0, "rows_quarantined": 0}
    failed: dict[str, list[str]] = {}
    batches = []
    for uri in files:
        location = locate(
            uri, store.version(uri), processed_root=processed_root, quarantine_root=quarantine_root
        )
        manifest = store.get_json(location.manifest_uri)
        if not isinstance(manifest, dict):
            failed[uri] = ["no committed batch"]
            continue
        for key in totals:
            totals[key] += int(manifest[key])
        checks = manifest["dq"]["checks"]
        bad = sorted(name for name, check in checks.items() if not check["passed"])
        if bad:
            failed[uri] = bad
        batches.append(manifest["batch_id"])
    return {**totals, "files": len(files), "batches": batches, "failed_checks": failed, "output_uri": processed_root,
            "passed": bool(files) and not failed}  # fmt: skip
