"""Read the ETL's processed Parquet into pandas, committed batches only (the jobs' reader without Spark).

On a cluster the jobs read with Spark instead (`ml.spark_data`, same rules), so that only a bounded
sample ever reaches pandas; this reader loads every row, for small data, tests and plain Python.

Layout (docs/contracts.md, written by `etl/`):
`{processed_root}/batch_id=<id>/processing_date=<d>/part-*.parquet`, and `batch_id=<id>/_manifest.json`
written last. A batch without its manifest is still being written (or its writer died): it is skipped,
so training never sees half a batch. A manifest's `files` list (etl/pipeline.py writes one) is the
batch's content: a stray part file left by an interrupted earlier attempt is not read. Those rules live
in `etl.batches` (`find_batches`), shared with the ETL's Spark reader; this module reads in pandas.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq

from etl.batches import MANIFEST_NAME, find_batches
from ml.features import ID_COLUMN
from ml.storage import LocalOrS3Store, ObjectStore

__all__ = ["MANIFEST_NAME", "NoProcessedDataError", "ProcessedData", "read_processed"]

_PARTITION = re.compile(r"/processing_date=([^/]+)/")


class NoProcessedDataError(RuntimeError):
    """No committed batch under the processed URI."""


@dataclass(frozen=True)
class ProcessedData:
    frame: pd.DataFrame
    batches: tuple[str, ...]  # batch ids read, sorted
    skipped_batches: tuple[str, ...]  # batch ids without a manifest (in progress or abandoned)
    files: int
    duplicates_dropped: int


def read_processed(processed_uri: str, *, storage: ObjectStore | None = None) -> ProcessedData:
    """Every committed batch under `processed_uri` (or the one batch it names), one row per customer.

    Which batches are committed and which files each holds is `etl.batches.find_batches`' answer, the
    same the ETL's own reader gets. A customer present in several batches keeps its latest record (by
    `processing_date`, then batch order), so a re-delivered file cannot weight a customer twice.
    """
    store = storage or LocalOrS3Store()
    found = find_batches(store, processed_uri)
    committed = [b for b in found if b.committed]
    skipped = [b.batch_id for b in found if not b.committed and b.data_files]
    if not committed:
        raise NoProcessedDataError(
            f"no committed batch under {processed_uri!r}: found {len(skipped)} batch folder(s) "
            f"{skipped[:5]} but none has {MANIFEST_NAME}; run the ETL job first (expected "
            f"batch_id=<id>/processing_date=<d>/part-*.parquet plus batch_id=<id>/{MANIFEST_NAME})"
        )
    frames = []
    for batch in committed:
        for uri in batch.files:
            table = pq.read_table(io.BytesIO(_read(store, uri)))
            frame = table.to_pandas()
            part = _PARTITION.search(uri)
            if "processing_date" not in frame.columns and part:
                frame["processing_date"] = part.group(1)
            frame["batch_id"] = batch.batch_id
            frames.append(frame)
    batches = [b.batch_id for b in committed]
    if not frames:
        raise NoProcessedDataError(
            f"the committed batches under {processed_uri!r} ({', '.join(batches)}) hold no rows: nothing to train on"
        )
    df = pd.concat(frames, ignore_index=True)
    before = len(df)
    if "processing_date" in df.columns:
        df = df.sort_values(["processing_date"], kind="stable")
    df = df.drop_duplicates(subset=[ID_COLUMN], keep="last").sort_values(ID_COLUMN, kind="stable")
    df = df.reset_index(drop=True)
    return ProcessedData(
        frame=df,
        batches=tuple(batches),
        skipped_batches=tuple(skipped),
        files=len(frames),
        duplicates_dropped=before - len(df),
    )


def _read(store: ObjectStore, uri: str) -> bytes:
    data = store.get_bytes(uri)
    if data is None:  # listed a moment ago: the batch is being replaced under us
        raise NoProcessedDataError(
            f"{uri} disappeared while reading (the ETL is re-writing its batch?); run the job again"
        )
    return data
