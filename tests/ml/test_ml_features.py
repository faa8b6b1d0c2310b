"""ml.features: the holdout is a stable, disjoint function of customer_id."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from ml_synthetic import processed_frame

from ml.features import FEATURES, FeatureError, feature_frame, holdout_mask, split


def test_split_is_disjoint_and_covers_every_row():
    df = processed_frame(5_000, seed=1)
    parts = split(df)
    assert set(parts.train["customer_id"]).isdisjoint(parts.holdout["customer_id"])
    assert len(parts.train) + len(parts.holdout) == len(df)


def test_holdout_is_about_a_fifth_of_customers():
    ids = pd.Series([f"C{i:08d}" for i in range(20_000)])
    share = holdout_mask(ids).mean()
    assert 0.19 < share < 0.21


def test_split_does_not_depend_on_row_order_or_on_other_rows():
    df = processed_frame(2_000, seed=2)
    shuffled = df.sample(frac=1.0, random_state=3)
    subset = df.iloc[::3]
    holdout = set(split(df).holdout["customer_id"])
    assert set(split(shuffled).holdout["customer_id"]) == holdout
    assert set(split(subset).holdout["customer_id"]) == holdout & set(subset["customer_id"])


def test_split_matches_the_spark_recipe_on_sha256_hex():
    # The module docstring promises Spark can reproduce the split with
    # conv(substr(sha2(customer_id, 256), 1, 16), 16, 10) % 10000 < 2000: check that recipe, spelled with hex.
    ids = pd.Series([f"C{i:08d}" for i in range(2_000)])
    spark_recipe = [int(hashlib.sha256(c.encode()).hexdigest()[:16], 16) % 10_000 < 2_000 for c in ids]
    assert holdout_mask(ids).tolist() == spark_recipe


def test_feature_frame_names_the_missing_column():
    df = processed_frame(10, seed=1).drop(columns=["plan"])
    with pytest.raises(FeatureError, match=r"missing column\(s\) \['plan'\]"):
        feature_frame(df)


def test_feature_frame_turns_booleans_into_numbers_and_keeps_only_model_columns():
    out = feature_frame(processed_frame(50, seed=1))
    assert tuple(out.columns) == FEATURES
    assert set(out["is_long_tenure"].unique()) <= {0.0, 1.0}


def test_holdout_fraction_outside_zero_one_is_rejected():
    with pytest.raises(ValueError, match="holdout fraction"):
        holdout_mask(pd.Series(["C1"]), fraction=1.0)
