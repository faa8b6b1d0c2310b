"""Score every holdout row in Arrow batches and compute the metrics exactly, in Spark.

`ml.metrics` needs every label and probability in one numpy array; at millions of rows that is the
holdout in one process. Here the model scores the holdout batch by batch (`mapInPandas`: at most
`spark.sql.execution.arrow.maxRecordsPerBatch` rows in pandas at a time, 10 000 by default) and the
metrics are aggregations over all of the scored rows, the same definitions as `ml.metrics`:

- counts at the threshold (precision, recall, F1, accuracy) are integers, exact;
- log loss and the Brier score are sums (log loss clipped to [eps, 1 - eps] as scikit-learn does);
- the reliability bins are `np.digitize` over the same edges: counts and sums per bin;
- ROC AUC is the Mann-Whitney statistic with ties counted half, which is what the area under the
  trapezoidal ROC curve equals: per distinct score, positives × (negatives scored lower + half of the
  negatives scored equal), summed in integers (doubled) and divided once.

They agree with `ml.metrics.classification_metrics` on the same rows up to floating-point summation order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ml.features import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, TARGET
from ml.metrics import ReliabilityBin

__all__ = ["SCORED_SCHEMA", "ScoredMetrics", "exact_metrics", "score"]

SCORED_SCHEMA = "y long, p double"
_EPS = float(np.finfo(np.float64).eps)


def score(frame: DataFrame, pipeline: Any, *, threads: int) -> DataFrame:
    """`frame`'s label and predicted churn probability (`y`, `p`), scored batch by batch where the rows are.

    The function shipped to the executors refers to nothing of this project (only the fitted pipeline,
    numpy, pandas and threadpoolctl), so executors need the libraries, not the project's code.
    """
    numeric, categorical, features = list(NUMERIC_FEATURES), list(CATEGORICAL_FEATURES), list(FEATURES)

    def predict(batches):  # runs in the executors' Python workers, one Arrow batch at a time
        import pandas as pd
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=threads):
            for batch in batches:
                x = batch.loc[:, features].copy()  # what ml.features.feature_frame does
                for col in numeric:
                    x[col] = pd.to_numeric(x[col], errors="coerce").astype("float64")
                for col in categorical:
                    x[col] = x[col].astype("object").where(x[col].notna(), None)
                proba = pipeline.predict_proba(x)[:, 1] if len(x) else np.empty(0)
                yield pd.DataFrame({"y": batch[TARGET].astype("int64").to_numpy(), "p": proba})

    return frame.select(TARGET, *FEATURES).mapInPandas(predict, SCORED_SCHEMA)


@dataclass(frozen=True)
class ScoredMetrics:
    metrics: dict[str, float]  # the keys and definitions of `ml.metrics.classification_metrics`
    rows: int
    positive_rate: float
    reliability: list[ReliabilityBin]


def exact_metrics(scored: DataFrame, *, threshold: float = 0.5, bins: int = 10) -> ScoredMetrics:
    """Metrics of every row of `scored` (`y`, `p`); two Spark jobs over it, persisted while they run."""
    scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        per_bin = _per_bin(scored, threshold, bins)
        rows = sum(b["n"] for b in per_bin.values())
        positives = sum(b["pos"] for b in per_bin.values())
        if positives in (0, rows):
            raise ValueError(f"holdout of {rows} rows has a single class: ROC AUC is undefined")
        auc = _roc_auc(scored, positives, rows - positives)
    finally:
        scored.unpersist()
    tp = sum(b["tp"] for b in per_bin.values())
    fp = sum(b["fp"] for b in per_bin.values())
    fn, tn = positives - tp, rows - positives - fp
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = []
    for i in range(bins):
        b = per_bin.get(i)
        table.append(
            ReliabilityBin(
                lower=float(edges[i]),
                upper=float(edges[i + 1]),
                count=b["n"] if b else 0,
                mean_predicted=b["sum_p"] / b["n"] if b else None,
                observed_rate=b["pos"] / b["n"] if b else None,
            )
        )
    ece = sum(b.count * abs(b.observed_rate - b.mean_predicted) for b in table if b.count) / rows
    metrics = dict(
        roc_auc=auc,
        f1=2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        accuracy=(tp + tn) / rows,
        log_loss=sum(b["log_loss"] for b in per_bin.values()) / rows,
        brier_score=sum(b["brier"] for b in per_bin.values()) / rows,
        expected_calibration_error=float(ece),
    )
    return ScoredMetrics(metrics=metrics, rows=rows, positive_rate=positives / rows, reliability=table)


def _per_bin(scored: DataFrame, threshold: float, bins: int) -> dict[int, dict[str, Any]]:
    """Per reliability bin: rows, positives, sum of p, true and false positives, log-loss and Brier sums.

    Written as Spark SQL text: built with the Column API these two aggregations were ~1,300 round trips
    to the JVM (each function, cast and alias one), a tenth of a small evaluation's wall time; a SQL text is
    parsed into the same expressions in one. Doubles are written with the `D` suffix (a plain `0.1` is a
    DECIMAL in Spark SQL) and `repr`, which round-trips every float exactly."""
    index = " + ".join(f"CAST(p >= {_double(e)} AS INT)" for e in np.linspace(0.0, 1.0, bins + 1)[1:-1])
    likelihood = "CASE WHEN y = 1 THEN p ELSE 1.0D - p END"
    clipped = f"least(greatest({likelihood}, {_double(_EPS)}), {_double(1.0 - _EPS)})"
    rows = (
        scored.groupBy(F.expr(f"least(greatest({index or '0'}, 0), {bins - 1}) AS bin"))
        .agg(
            F.expr("count(1) AS n"),
            F.expr("sum(y) AS pos"),
            F.expr("sum(p) AS sum_p"),
            F.expr(f"sum(CAST(p >= {_double(threshold)} AND y = 1 AS BIGINT)) AS tp"),
            F.expr(f"sum(CAST(p >= {_double(threshold)} AND y = 0 AS BIGINT)) AS fp"),
            F.expr(f"sum(-ln({clipped})) AS log_loss"),
            F.expr("sum((p - y) * (p - y)) AS brier"),
        )
        .collect()
    )
    return {int(r["bin"]): {k: r[k] for k in ("n", "pos", "sum_p", "tp", "fp", "log_loss", "brier")} for r in rows}


def _roc_auc(scored: DataFrame, positives: int, negatives: int) -> float:
    """Mann-Whitney U / (P × N), ties half; the cumulative count runs over distinct scores in Spark."""
    per_score = scored.groupBy("p").agg(F.expr("sum(y) AS pos"), F.expr("sum(1 - y) AS neg"))
    below = "sum(neg) OVER (ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    doubled = (
        per_score.selectExpr("pos", "neg", f"coalesce({below}, 0) AS neg_below")
        .agg(F.expr("sum(pos * (2 * neg_below + neg)) AS u2"))
        .collect()[0]["u2"]
    )
    return float(int(doubled) / (2 * positives * negatives))


def _double(value: float) -> str:
    """`value` as a Spark SQL DOUBLE literal, exactly."""
    return f"{float(value)!r}D"
