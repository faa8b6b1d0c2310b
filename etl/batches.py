"""Batches: where one input's output lands, its manifest, and how readers find committed batches.

Output for one input file lives under `{root}/batch_id=<id>/`, where the id hashes the source URI
and its content version (ETag + size), so the same upload always maps to the same directory and a
re-run replaces it instead of adding to it. `_manifest.json` is written last: a batch without one is
incomplete (or being replaced) and readers ignore it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from etl.schema import PROCESSED_SCHEMA
from etl.storage import Storage

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


def committed_manifests(storage: Storage, processed_root: str) -> list[dict]:
    """The manifests of every committed batch under `processed_root`, sorted by batch id."""
    root = processed_root.rstrip("/")
    manifests = []
    for uri in storage.list(root):
        relative = uri[len(root) :].strip("/")
        parts = relative.split("/")
        if len(parts) == 2 and parts[0].startswith("batch_id=") and parts[1] == MANIFEST_NAME:
            manifest = storage.get_json(uri)
            if isinstance(manifest, dict):
                manifests.append(manifest)
    return sorted(manifests, key=lambda m: m["batch_id"])


def read_processed(storage: Storage, processed_root: str) -> DataFrame:
    """All committed processed rows under `processed_root` (the files their manifests list, nothing else).

    Files are read one batch at a time and `processing_date` comes from the manifest: Spark infers
    partition columns only when it reads a directory, not a list of files.
    """
    frames = []
    for manifest in committed_manifests(storage, processed_root):
        if manifest["files"]:
            day = F.lit(manifest["processing_date"]).cast("date").alias("processing_date")
            df = storage.read_parquet(*manifest["files"])
            frames.append(df.select(*[c for c in df.columns if c != "processing_date"], day))
    if not frames:
        return storage.spark.createDataFrame([], PROCESSED_SCHEMA)
    return reduce(DataFrame.unionByName, frames)
