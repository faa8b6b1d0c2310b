"""The training sample: at most `max_train_rows` rows, seeded, stratified by the churn label.

Training loads its rows into one pandas process, so their number must not follow the data's: above the
cap, each class keeps its share of the cap (largest remainders, so the sample is exactly the cap), and
within a class the rows with the smallest `sample_key` — SHA-256 of `"<seed>:<customer_id>"` — are kept.
The key is a pure function of the customer and the seed, so the pandas reader here and the Spark reader
(`ml.spark_data`, `sha2(concat(...), 256)`) pick the same customers, on any machine, run after run. At or
below the cap every row is kept and nothing changes.
"""

from __future__ import annotations

import hashlib
import os

import pandas as pd

from ml.features import ID_COLUMN, target

__all__ = [
    "DEFAULT_MAX_TRAIN_ROWS",
    "MAX_TRAIN_ROWS_ENV",
    "allocation",
    "max_train_rows",
    "sample_key",
    "sample_rows",
]

MAX_TRAIN_ROWS_ENV = "STEPBRICKS_ML_MAX_TRAIN_ROWS"
# 200k rows fit a histogram gradient boosting model in seconds on one core and in ~100 MB of pandas;
# beyond that the holdout score barely moves on this data while time and memory grow with the rows.
DEFAULT_MAX_TRAIN_ROWS = 200_000


def max_train_rows(value: int | str | None = None) -> int:
    """The cap: `value` (a job parameter; None or "" = unset), else `STEPBRICKS_ML_MAX_TRAIN_ROWS`, else 200k."""
    for source, raw in (("max_train_rows", value), (MAX_TRAIN_ROWS_ENV, os.environ.get(MAX_TRAIN_ROWS_ENV))):
        text = str(raw).strip().replace("_", "") if raw is not None else ""
        if text:
            if not text.isdigit() or int(text) < 2:
                raise ValueError(f"{source} must be an integer >= 2 (one row per class at least), got {raw!r}")
            return int(text)
    return DEFAULT_MAX_TRAIN_ROWS


def allocation(counts: dict[int, int], cap: int) -> dict[int, int]:
    """Rows to keep per class: all of them within the cap, else shares of the cap summing to exactly `cap`.

    Largest-remainder rounding in integers (ties to the smaller label); a class present in the data keeps
    at least one row, so a rare class cannot vanish from the sample.
    """
    total = sum(counts.values())
    if total <= cap:
        return dict(counts)
    kept = {c: cap * n // total for c, n in counts.items()}
    by_remainder = sorted(counts, key=lambda c: (-(cap * counts[c] % total), c))
    for c in by_remainder[: cap - sum(kept.values())]:
        kept[c] += 1
    for c in sorted(counts):
        if counts[c] and not kept[c]:
            kept[max(kept, key=lambda k: (kept[k], -k))] -= 1
            kept[c] = 1
    return kept


def sample_key(customer_id: str, seed: int) -> str:
    """The order in which a class's rows enter the sample (the Spark reader computes the same hex digest)."""
    return hashlib.sha256(f"{seed}:{customer_id}".encode()).hexdigest()


def sample_rows(df: pd.DataFrame, *, cap: int, seed: int) -> pd.DataFrame:
    """`df` itself when it has at most `cap` rows; else the stratified sample, in `df`'s row order."""
    if len(df) <= cap:
        return df
    labels = target(df)
    keep = allocation({int(c): int(n) for c, n in labels.value_counts().items()}, cap)
    keys = df[ID_COLUMN].astype(str).map(lambda cid: sample_key(cid, seed))
    chosen = [keys[labels == c].sort_values(kind="stable").index[:k] for c, k in keep.items()]
    index = chosen[0].append(chosen[1:]) if chosen else df.index[:0]
    return df.loc[df.index.isin(index)].reset_index(drop=True)
