"""Holdout metrics of a binary classifier: ranking, thresholded, probabilistic and calibration."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

__all__ = ["ReliabilityBin", "classification_metrics", "reliability_table"]


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of the reliability diagram: predicted vs observed churn rate."""

    lower: float
    upper: float
    count: int
    mean_predicted: float | None  # None for an empty bin
    observed_rate: float | None


def reliability_table(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]; empty bins are kept (with None) so every table has `bins` rows."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(proba, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        in_bin = index == b
        count = int(in_bin.sum())
        table.append(
            ReliabilityBin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                count=count,
                mean_predicted=float(proba[in_bin].mean()) if count else None,
                observed_rate=float(y_true[in_bin].mean()) if count else None,
            )
        )
    return table


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, *, threshold: float = 0.5
) -> dict[str, float]:
    """ROC AUC, F1, precision, recall, accuracy (at `threshold`), log loss, Brier score, and the
    expected calibration error (count-weighted |observed - predicted| over the reliability bins)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if len(np.unique(y_true)) < 2:
        raise ValueError(f"holdout of {len(y_true)} rows has a single class: ROC AUC is undefined")
    predicted = (proba >= threshold).astype(np.int64)
    table = reliability_table(y_true, proba)
    ece = sum(b.count * abs(b.observed_rate - b.mean_predicted) for b in table if b.count) / len(y_true)
    return {
        "roc_auc": float(roc_auc_score(y_true, proba)),
        "f1": float(f1_score(y_true, predicted, zero_division=0)),
        "precision": float(precision_score(y_true, predicted, zero_division=0)),
        "recall": float(recall_score(y_true, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "log_loss": float(log_loss(y_true, proba, labels=[0, 1])),
        "brier_score": float(brier_score_loss(y_true, proba)),
        "expected_calibration_error": float(ece),
    }


def table_as_dicts(table: list[ReliabilityBin]) -> list[dict]:
    return [asdict(b) for b in table]
