"""The ML jobs' Spark reader: committed batches as a Spark DataFrame, so no step holds every row in pandas.

On a cluster the jobs read the processed data with Spark (`ml.data.read_processed` is the pandas reader
of the same rules, for callers without a SparkSession): the batches `etl.batches.find_batches` finds
committed, the files each manifest lists, the latest record of a customer present in several batches,
and the holdout flag, all computed by Spark, which spills instead of running out of memory. Only a
bounded training sample (`training_sample`) ever becomes a pandas frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from etl.batches import MANIFEST_NAME, find_batches
from etl.storage import Storage
from ml.data import NoProcessedDataError
from ml.features import _BUCKETS, FEATURES, HOLDOUT_FRACTION, ID_COLUMN, TARGET
from ml.sample import allocation
from ml.storage import ObjectStore

__all__ = ["SparkProcessed", "holdout_flag", "read_processed_spark", "spark_storage", "training_sample"]

_PARTITION = re.compile(r"/processing_date=([^/]+)/")
_ORDER = "_batch_order"


@contextmanager
def spark_storage(spark: SparkSession, store: ObjectStore) -> Iterator[Storage]:
    """What Spark reads through: `store` when it is the ETL's `Storage`, else the cluster's own
    (`Storage.from_env`: staged `s3://` on a simulator cluster, direct on Databricks), closed afterwards
    (its staged copies must outlive every DataFrame read from them, so use it around the whole job)."""
    if isinstance(store, Storage):
        yield store
        return
    with Storage.from_env(spark) as storage:
        yield storage


@dataclass(frozen=True)
class SparkProcessed:
    frame: DataFrame  # one row per customer, its latest record, plus a boolean `holdout` column
    batches: tuple[str, ...]  # batch ids read, sorted
    skipped_batches: tuple[str, ...]  # batch ids without a manifest


def holdout_flag(fraction: float = HOLDOUT_FRACTION) -> Column:
    """`ml.features.holdout_mask` in Spark: the first 8 bytes of SHA-256(customer_id), unsigned, mod 10 000."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction!r}")
    digits = F.conv(F.substring(F.sha2(F.col(ID_COLUMN).cast("string"), 256), 1, 16), 16, 10)
    return F.pmod(digits.cast("decimal(20,0)"), F.lit(_BUCKETS)) < round(fraction * _BUCKETS)


def read_processed_spark(storage: Storage, processed_uri: str) -> SparkProcessed:
    """Every committed batch under `processed_uri` (or the one it names), one row per customer.

    Same rules as `ml.data.read_processed`: batches without a manifest are skipped; a customer in several
    batches keeps the record of the latest `processing_date`, then of the last batch in id order. (Within
    one batch customer ids are unique: the ETL quarantines later copies.)
    """
    found = find_batches(storage, processed_uri)
    committed = [b for b in found if b.committed]
    skipped = tuple(b.batch_id for b in found if not b.committed and b.data_files)
    if not committed:
        raise NoProcessedDataError(
            f"no committed batch under {processed_uri!r}: found {len(skipped)} batch folder(s) "
            f"{list(skipped[:5])} but none has {MANIFEST_NAME}; run the ETL job first (expected "
            f"batch_id=<id>/processing_date=<d>/part-*.parquet plus batch_id=<id>/{MANIFEST_NAME})"
        )
    frames = []
    for order, batch in enumerate(committed):
        by_day: dict[str | None, list[str]] = {}
        for uri in batch.files:
            part = _PARTITION.search(uri)
            by_day.setdefault(part.group(1) if part else batch.manifest.get("processing_date"), []).append(uri)
        for day, uris in by_day.items():
            df = storage.read_parquet(*uris)
            frames.append(
                df.select(
                    *[c for c in df.columns if c != "processing_date"],
                    F.lit(day).cast("string").alias("processing_date"),
                    F.lit(batch.batch_id).alias("batch_id"),
                    F.lit(order).alias(_ORDER),
                )
            )
    batches = tuple(b.batch_id for b in committed)
    if not frames:
        raise NoProcessedDataError(
            f"the committed batches under {processed_uri!r} ({', '.join(batches)}) hold no rows: nothing to train on"
        )
    rows = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
    if len(committed) > 1:  # only across batches can a customer appear twice
        latest = Window.partitionBy(ID_COLUMN).orderBy(
            F.col("processing_date").desc_nulls_last(), F.col(_ORDER).desc()
        )
        rows = rows.withColumn("_rank", F.row_number().over(latest)).where("_rank = 1").drop("_rank")
    return SparkProcessed(
        frame=rows.drop(_ORDER).withColumn("holdout", holdout_flag()),
        batches=batches,
        skipped_batches=skipped,
    )


@dataclass(frozen=True)
class TrainingSample:
    frame: pd.DataFrame  # the sampled train-split rows (id, label, features), sorted by customer_id
    available_rows: int  # rows of the train split before sampling
    holdout_rows: int


def training_sample(processed: DataFrame, *, cap: int, seed: int) -> TrainingSample:
    """`ml.sample.sample_rows` of the train split in Spark: the same customers, sorted by id, in pandas.

    One small aggregation counts the rows per split and class; above the cap each class is a top-k by
    the sample key, which Spark keeps to k rows per task (`TakeOrderedAndProject`), so neither the
    driver nor pandas ever holds more than the cap.
    """
    columns = [ID_COLUMN, TARGET, *FEATURES]
    counted = processed.groupBy("holdout", TARGET).agg(F.count(F.lit(1)).alias("n")).collect()
    counts = {int(r[TARGET]): int(r["n"]) for r in counted if not r["holdout"]}
    available = sum(counts.values())
    train = processed.where(~F.col("holdout"))
    if available <= cap:
        chosen = train.select(*columns)
    else:
        key = F.sha2(F.concat(F.lit(f"{seed}:"), F.col(ID_COLUMN).cast("string")), 256)
        parts = [
            train.where(F.col(TARGET) == c).orderBy(key).limit(k).select(*columns)
            for c, k in allocation(counts, cap).items()
            if k
        ]
        chosen = reduce(DataFrame.unionByName, parts)
    frame = chosen.orderBy(ID_COLUMN).toArrow().to_pandas()
    return TrainingSample(
        frame=frame, available_rows=available, holdout_rows=sum(int(r["n"]) for r in counted if r["holdout"])
    )
