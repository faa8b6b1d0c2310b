"""ml.sample: the training rows are bounded by a cap, seeded and stratified; below the cap nothing changes."""

from __future__ import annotations

import pytest
from ml_synthetic import processed_frame

from ml.features import split, target
from ml.sample import DEFAULT_MAX_TRAIN_ROWS, MAX_TRAIN_ROWS_ENV, allocation, max_train_rows, sample_rows


@pytest.fixture(scope="module")
def train_split():
    return split(processed_frame(3_000, seed=5)).train


def test_at_or_below_the_cap_every_row_is_kept_in_order(train_split):
    assert sample_rows(train_split, cap=len(train_split), seed=1) is train_split


def test_above_the_cap_exactly_the_cap_is_kept_with_each_class_share(train_split):
    sample = sample_rows(train_split, cap=500, seed=1)
    assert len(sample) == 500
    assert sample["customer_id"].is_unique and set(sample["customer_id"]) <= set(train_split["customer_id"])
    share, full_share = target(sample).mean(), target(train_split).mean()
    assert abs(share - full_share) <= 1 / 500  # stratified: the churn rate is kept to one row
    assert list(sample["customer_id"]) == sorted(sample["customer_id"])  # the input's order (sorted by id)


def test_the_sample_is_a_function_of_the_seed(train_split):
    first, again = sample_rows(train_split, cap=400, seed=7), sample_rows(train_split, cap=400, seed=7)
    other = sample_rows(train_split, cap=400, seed=8)
    assert first.equals(again)
    assert set(first["customer_id"]) != set(other["customer_id"])


def test_allocation_sums_to_the_cap_and_keeps_a_rare_class():
    assert allocation({0: 700, 1: 300}, 10) == {0: 7, 1: 3}
    assert allocation({0: 2, 1: 1}, 5) == {0: 2, 1: 1}  # within the cap: everything
    assert sum(allocation({0: 667, 1: 333}, 100).values()) == 100
    assert allocation({0: 100_000, 1: 3}, 100) == {0: 99, 1: 1}  # 0.003 rows would round to none


def test_the_cap_comes_from_the_parameter_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv(MAX_TRAIN_ROWS_ENV, raising=False)
    assert max_train_rows(None) == DEFAULT_MAX_TRAIN_ROWS == 200_000
    monkeypatch.setenv(MAX_TRAIN_ROWS_ENV, "50_000")
    assert max_train_rows("") == 50_000
    assert max_train_rows("1000") == 1000
    for bad in ("ten", "1", "-5"):
        with pytest.raises(ValueError, match="max_train_rows"):
            max_train_rows(bad)
