"""ml.train.train: the seeded pipeline learns the churn signal and is reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from ml_synthetic import processed_frame
from sklearn.metrics import roc_auc_score

from ml.features import feature_frame, split, target
from ml.train import train
from sim.data.customers import CITIES, PLANS


@pytest.fixture(scope="module")
def parts():
    return split(processed_frame(8_000, seed=11))


def _true_logit(df):
    """The generator's own churn log-odds without its noise: the best ranking any model can reach."""
    plan = df["plan"].map({p[0]: p[4] for p in PLANS})
    city = df["city"].map({c[0]: c[2] for c in CITIES})
    return (
        -0.05 * df["tenure_months"]
        + plan
        + 0.02 * (df["monthly_charges"] - 55)
        + 0.40 * df["support_calls"]
        - 0.015 * (df["age"] - 42)
        + city
    )


def test_training_learns_the_signal_on_unseen_customers(parts):
    result = train(parts.train, seed=42)
    proba = result.pipeline.predict_proba(feature_frame(parts.holdout))[:, 1]
    auc = roc_auc_score(target(parts.holdout), proba)
    oracle = roc_auc_score(target(parts.holdout), _true_logit(parts.holdout))
    assert auc > 0.75  # well above chance (the generator's true log-odds reach about 0.85)
    assert auc > oracle - 0.03  # and close to the best ranking the data allows
    assert result.train_rows == len(parts.train)


def test_same_seed_gives_the_same_predictions(parts):
    x = feature_frame(parts.holdout)
    first = train(parts.train, seed=5).pipeline.predict_proba(x)
    second = train(parts.train, seed=5).pipeline.predict_proba(x)
    np.testing.assert_array_equal(first, second)


def test_unknown_categories_at_scoring_time_are_ignored_not_fatal(parts):
    pipeline = train(parts.train, seed=1).pipeline
    x = feature_frame(parts.holdout.head(5)).assign(city="Atlantis", plan="platinum")
    proba = pipeline.predict_proba(x)[:, 1]
    assert np.isfinite(proba).all()


def test_missing_values_are_imputed(parts):
    pipeline = train(parts.train, seed=1).pipeline
    x = feature_frame(parts.holdout.head(5))
    x["age"] = np.nan
    x["city"] = None
    assert np.isfinite(pipeline.predict_proba(x)).all()


def test_a_single_class_cannot_be_trained_on(parts):
    churners_only = parts.train[parts.train["churned"] == 1]
    with pytest.raises(ValueError, match="single class"):
        train(churners_only, seed=1)
