"""Batches: where one input's output lands, its manifest, and how readers find committed batches.

Output for one input file lives under `{root}/batch_id=<id>/`, where the id hashes the source URI
and its content version (ETag + size), so the same upload always maps to the same directory and a
re-run replaces it instead of adding to it. `_manifest.json` is written last: a batch without one is
incomplete (or being replaced) and readers ignore it.

`find_batches` is the one reading of that layout for both readers, the ETL's Spark `read_processed`
here and the ML jobs' pandas `ml.data.read_processed`; it needs no Spark (pyspark is imported only by
`read_processed`), so the ML jobs can use it without a SparkSession.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.objects import ObjectStore, is_data_file, is_s3, local_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from etl.storage import Storage

__all__ = [
    "MANIFEST_NAME",
    "Batch",
    "BatchLocation",
    "batch_id",
    "committed_manifests",
    "find_batches",
    "locate",
    "read_processed",
]

MANIFEST_NAME = "_manifest.json"


@dataclass(frozen=True)
class BatchLocation:
    batch_id: str
    output_uri: str
    quarantine_uri: str

    @property
    def manifest_uri(self) -> str:
        return f"{self.output_uri}/{MANIFEST_NAME}"


def batch_id(source_uri: str, source_version: str) -> str:
    return hashlib.sha256(f"{source_uri}\n{source_version}".encode()).hexdigest()[:16]


def locate(
    source_uri: str, source_version: str, *, processed_root: str, quarantine_root: str
) -> BatchLocation:
    bid = batch_id(source_uri, source_version)
    return BatchLocation(
        batch_id=bid,
        output_uri=f"{processed_root.rstrip('/')}/batch_id={bid}",
        quarantine_uri=f"{quarantine_root.rstrip('/')}/batch_id={bid}",
    )


BATCH_DIR_PREFIX = "batch_id="


@dataclass(frozen=True)
class Batch:
    """One `batch_id=<id>/` folder as a listing found it."""

    batch_id: str
    uri: str
    manifest: dict | None  # None: not committed (being written or replaced, or abandoned): not to be read
    data_files: tuple[str, ...]  # data objects under the folder, markers and checksums excluded

    @property
    def committed(self) -> bool:
        return self.manifest is not None

    @property
    def files(self) -> list[str]:
        """What to read: the manifest's `files` (so a stray part file of an interrupted attempt is not
        read), or the data files found when a manifest lists none (manifests from before `files`)."""
        listed = (self.manifest or {}).get("files")
        return sorted(listed) if listed is not None else list(self.data_files)


def find_batches(store: ObjectStore, uri: str) -> list[Batch]:
    """The batches at `uri`, sorted by id: the `batch_id=<id>/` folders of a processed root, or the one
    batch a `.../batch_id=<id>` URI names (the ETL summary's `output_uri`).

    Only `list` and `get_bytes` of the store are used. A manifest that is gone by the time it is read
    (the ETL un-commits a batch by deleting it first) or is not a JSON object leaves the batch uncommitted.
    """
    root = uri.rstrip("/")
    listed_root = root if is_s3(root) else str(local_path(root))  # local listings are normalised paths
    last = root.rsplit("/", 1)[-1]
    one_batch = last.startswith(BATCH_DIR_PREFIX)
    folders: dict[str, str] = {}  # batch id -> folder URI
    data: dict[str, list[str]] = {}
    manifests: dict[str, str] = {}
    for obj in store.list(root):
        relative = obj[len(listed_root) :].strip("/")
        if one_batch:
            folder, rest = last, relative
        else:
            folder, _, rest = relative.partition("/")
        if not (folder.startswith(BATCH_DIR_PREFIX) and rest):
            continue
        batch = folder.removeprefix(BATCH_DIR_PREFIX)
        folders.setdefault(batch, root if one_batch else f"{root}/{folder}")
        if rest == MANIFEST_NAME:
            manifests[batch] = obj
        elif is_data_file(rest):
            data.setdefault(batch, []).append(obj)
    return [
        Batch(batch, folder, _manifest(store, manifests.get(batch)), tuple(sorted(data.get(batch, []))))
        for batch, folder in sorted(folders.items())
    ]


def _manifest(store: ObjectStore, uri: str | None) -> dict | None:
    data = store.get_bytes(uri) if uri else None
    manifest = json.loads(data) if data is not None else None
    return manifest if isinstance(manifest, dict) else None


def committed_manifests(storage: ObjectStore, processed_root: str) -> list[dict]:
    """The manifests of every committed batch at `processed_root` (see `find_batches`), sorted by batch id."""
    return [b.manifest for b in find_batches(storage, processed_root) if b.manifest is not None]


def read_processed(storage: Storage, processed_root: str) -> DataFrame:
    """All committed processed rows at `processed_root` (the files their manifests list, nothing else).

    Files are read one batch at a time and `processing_date` comes from the manifest: Spark infers
    partition columns only when it reads a directory, not a list of files.
    """
    from functools import reduce

    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    from etl.schema import PROCESSED_SCHEMA

    frames = []
    for manifest in committed_manifests(storage, processed_root):
        if manifest["files"]:
            day = F.lit(manifest["processing_date"]).cast("date").alias("processing_date")
            df = storage.read_parquet(*manifest["files"])
            frames.append(df.select(*[c for c in df.columns if c != "processing_date"], day))
    if not frames:
        return storage.spark.createDataFrame([], PROCESSED_SCHEMA)
    return reduce(DataFrame.unionByName, frames)
