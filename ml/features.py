"""Which processed columns the model sees, and which customers are held out.

The split is a pure function of `customer_id` (a SHA-256 bucket), so the training job and the
evaluation job — separate Databricks runs on possibly different clusters — agree on the holdout
without sharing state, and a customer never moves between train and holdout when new batches arrive.
SHA-256 (not Python's salted `hash`, nor pandas' hashing) keeps the split identical across processes,
library versions and languages: Spark reproduces it with `conv(substr(sha2(customer_id, 256), 1, 16), 16, 10)`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURES",
    "HOLDOUT_FRACTION",
    "ID_COLUMN",
    "NUMERIC_FEATURES",
    "TARGET",
    "Split",
    "feature_frame",
    "holdout_mask",
    "split",
    "target",
]

ID_COLUMN = "customer_id"
TARGET = "churned"
NUMERIC_FEATURES: tuple[str, ...] = (
    "age",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "charges_per_month_tenure",
    "is_long_tenure",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("city", "plan", "age_band")
FEATURES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

HOLDOUT_FRACTION = 0.2
_BUCKETS = 10_000


class FeatureError(ValueError):
    """The processed data lacks a column the model needs."""


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame


def _bucket(customer_id: str) -> int:
    digest = hashlib.sha256(customer_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS


def holdout_mask(customer_ids: pd.Series, fraction: float = HOLDOUT_FRACTION) -> pd.Series:
    """True for the customers in the holdout (about `fraction` of them), stable forever."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction!r}")
    cutoff = round(fraction * _BUCKETS)
    buckets = customer_ids.astype(str).map(_bucket)
    return buckets < cutoff


def split(df: pd.DataFrame, fraction: float = HOLDOUT_FRACTION) -> Split:
    """Partition rows into train and holdout by customer; the two never share a customer."""
    _require(df, (ID_COLUMN,))
    mask = holdout_mask(df[ID_COLUMN], fraction)
    return Split(train=df.loc[~mask].reset_index(drop=True), holdout=df.loc[mask].reset_index(drop=True))


def feature_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns with the dtypes the pipeline expects (bools as 0/1, categories as str)."""
    _require(df, FEATURES)
    out = df.loc[:, list(FEATURES)].copy()
    for col in NUMERIC_FEATURES:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    for col in CATEGORICAL_FEATURES:
        out[col] = out[col].astype("object").where(out[col].notna(), None)
    return out


def target(df: pd.DataFrame) -> pd.Series:
    """The churn label as int 0/1."""
    _require(df, (TARGET,))
    return pd.to_numeric(df[TARGET], errors="raise").astype("int64")


def _require(df: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise FeatureError(
            f"processed data is missing column(s) {missing}; expected the processed schema of "
            f"docs/contracts.md, got columns {sorted(df.columns)}"
        )
