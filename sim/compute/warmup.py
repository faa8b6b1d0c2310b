"""What a cluster runs once while it is PENDING, so the first task does not pay the engine's cold start.

A fresh JVM runs a pipeline's first Spark SQL job several times slower than the second (class loading,
Catalyst rule and code-generation caches, the first Parquet writer): measured on the reference ETL, 5,000
rows, 2 cores: 5.2 s on a new session against 1.3 s after one run. Databricks hides this behind warm
pools; here the worker runs one small, representative job of each kind while the cluster is still
PENDING (its cost shows as the cluster's start time, never as a run's execution time). The data is
made up here: no user code or data is touched. scikit-learn's estimators and metrics are imported for
the same reason (the ML runtime's libraries are loaded on a Databricks cluster before any notebook).
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

_LINES = ["id,when,amount,flag", "C1,2024-01-02,10.5,true", "C2,2024-13-40,x,false", "C1,2024-01-03,7,1",
          '{"id": "C3", "when": "2024-02-02", "amount": 3}']


def warm_engine(spark: Any, scratch: Path) -> None:
    """Text and CSV/JSON parsing, typed checks, a window, an aggregation, a Parquet round trip."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    work = Path(tempfile.mkdtemp(prefix="warmup-", dir=scratch))
    try:
        (work / "in.csv").write_text("\n".join(_LINES) + "\n")
        lines = spark.read.text(str(work / "in.csv")).withColumn("n", F.monotonically_increasing_id())
        lines.groupBy(F.shiftright("n", 33).alias("p")).count().collect()
        parsed = lines.select(
            "n",
            F.from_csv("value", "id string, when string, amount string, flag string",
                       {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_bad"}).alias("c"),
            F.from_json("value", "id string, when string, amount string").alias("j"),
            F.is_valid_utf8("value").alias("ok"),
        )
        typed = parsed.select(
            "n", "ok", F.trim(F.col("c.id")).alias("id"),
            F.try_to_date(F.col("c.when"), "yyyy-MM-dd").alias("when"),
            F.col("c.amount").try_cast("double").alias("amount"),
            F.col("c.id").rlike(r"^C[0-9]+$").alias("id_ok"),
            F.coalesce(F.when(F.col("c.amount").isNull(), F.lit("missing")), F.col("j.id")).alias("reason"),
        )
        ranked = typed.withColumn("rank", F.row_number().over(Window.partitionBy("id").orderBy("n"))).persist()
        ranked.groupBy("reason").count().collect()
        ranked.where(F.col("rank") == 1).withColumn("day", F.lit("2024-01-01").cast("date")).write.mode(
            "overwrite").partitionBy("day").parquet(str(work / "out"))
        spark.read.parquet(str(work / "out")).toPandas()
        ranked.unpersist()
    finally:
        shutil.rmtree(work, ignore_errors=True)


_ML_MODULES = ("sklearn.compose", "sklearn.ensemble", "sklearn.impute", "sklearn.linear_model", "sklearn.metrics",
               "sklearn.pipeline", "sklearn.preprocessing")


def warm_libraries(*more: str) -> None:
    """Import what ML notebooks import (seconds on a cold page cache), off the task's clock.

    Beside a running task, the switch interval is lowered meanwhile: the task's thread waits on the JVM
    (py4j) and needs the GIL back within ~0.5 ms of each answer, not the default 5 ms."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0005))
    try:
        for name in (*more, *_ML_MODULES):
            importlib.import_module(name)
    finally:
        sys.setswitchinterval(interval)
