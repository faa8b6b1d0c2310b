"""ml.metrics: the holdout metrics and the reliability table of the evaluation job."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ml.metrics import classification_metrics, reliability_table


def test_reliability_table_keeps_empty_bins_and_counts_every_row():
    proba = np.array([0.05, 0.07, 0.55, 0.95, 1.0])
    y = np.array([0, 0, 1, 1, 1])
    table = reliability_table(y, proba)
    assert len(table) == 10
    assert [b.count for b in table] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]  # 1.0 falls in the last bin
    assert table[1].mean_predicted is None and table[1].observed_rate is None
    assert table[0].mean_predicted == pytest.approx(0.06)
    assert table[9].observed_rate == 1.0


def test_a_calibrated_model_has_small_calibration_error_and_a_miscalibrated_one_large():
    rng = np.random.default_rng(0)
    proba = rng.uniform(size=50_000)
    y = (rng.uniform(size=proba.size) < proba).astype(int)  # outcomes drawn from the stated probability
    calibrated = classification_metrics(y, proba)
    overconfident = classification_metrics(y, np.clip(proba * 2 - 0.5, 0.001, 0.999))
    assert calibrated["expected_calibration_error"] < 0.01
    assert overconfident["expected_calibration_error"] > 0.1
    assert calibrated["brier_score"] < overconfident["brier_score"]
    assert calibrated["roc_auc"] == pytest.approx(roc_auc_score(y, proba))


def test_thresholded_metrics_follow_the_decision_threshold():
    y = np.array([0, 0, 1, 1])
    proba = np.array([0.2, 0.6, 0.4, 0.9])
    at_half = classification_metrics(y, proba, threshold=0.5)
    at_three_tenths = classification_metrics(y, proba, threshold=0.3)
    assert (at_half["precision"], at_half["recall"], at_half["accuracy"]) == (0.5, 0.5, 0.5)
    assert (at_three_tenths["precision"], at_three_tenths["recall"]) == (2 / 3, 1.0)


def test_a_holdout_with_one_class_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="single class: ROC AUC is undefined"):
        classification_metrics(np.zeros(5, dtype=int), np.linspace(0, 1, 5))
