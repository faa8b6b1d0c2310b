"""The ML jobs' Spark path: the same rows, holdout, sample and metrics as the pandas path, in bounded memory.

The notebooks pass their `spark` session: the data is read, de-duplicated and sampled by Spark (only
the capped sample reaches pandas) and the holdout is scored in Arrow batches with the metrics computed
over every row by Spark. Each test pins that path to the pandas one on small data.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import BUCKETS
from ml_synthetic import processed_frame, write_local_batch

from etl.storage import Storage
from ml.data import read_processed
from ml.evaluate import run_evaluation
from ml.features import FEATURES, ID_COLUMN, TARGET, feature_frame, holdout_mask, split, target
from ml.metrics import classification_metrics, reliability_table, table_as_dicts
from ml.sample import sample_rows
from ml.scoring import exact_metrics, score
from ml.spark_data import read_processed_spark, training_sample
from ml.train import run_training, train

pytestmark = [pytest.mark.spark, pytest.mark.slow]

COLUMNS = [ID_COLUMN, TARGET, *FEATURES]


@pytest.fixture(scope="module")
def processed_root(tmp_path_factory):
    """Two committed batches sharing 200 customers (the later batch's record wins) and one uncommitted."""
    root = tmp_path_factory.mktemp("processed")
    first = processed_frame(2_000, seed=21, processing_date="2026-11-01")
    second = processed_frame(800, seed=22, processing_date="2026-11-02", id_offset=1_800)
    write_local_batch(root, first, "a")
    write_local_batch(root, second, "b")
    write_local_batch(root, processed_frame(300, seed=23, id_offset=50_000), "c-writing", manifest=False)
    return str(root)


@pytest.fixture(scope="module")
def both(spark, processed_root):
    with Storage(spark) as storage:
        processed = read_processed_spark(storage, processed_root)
        rows = processed.frame.toPandas()
        yield processed, rows, read_processed(processed_root)


def test_spark_reads_the_committed_batches_one_row_per_customer_like_pandas(both):
    processed, rows, pandas_data = both
    assert processed.batches == pandas_data.batches == ("a", "b")
    assert processed.skipped_batches == pandas_data.skipped_batches == ("c-writing",)
    spark_rows = rows.sort_values(ID_COLUMN).reset_index(drop=True)
    assert len(spark_rows) == len(pandas_data.frame) == 2_600
    assert list(spark_rows[ID_COLUMN]) == list(pandas_data.frame[ID_COLUMN])
    # the 200 shared customers keep the later batch's record, as in pandas
    assert (spark_rows["batch_id"] == pandas_data.frame["batch_id"]).all()
    assert feature_frame(spark_rows).equals(feature_frame(pandas_data.frame))


def test_the_spark_holdout_flag_is_the_pandas_holdout(both):
    _, rows, _ = both
    assert rows["holdout"].tolist() == holdout_mask(rows[ID_COLUMN]).tolist()
    assert 0.15 < rows["holdout"].mean() < 0.25


def test_below_the_cap_spark_trains_on_the_same_rows_and_so_the_same_model(both):
    processed, _, pandas_data = both
    pandas_train = split(pandas_data.frame).train
    sample = training_sample(processed.frame, cap=100_000, seed=3)
    assert sample.available_rows == len(sample.frame) == len(pandas_train)
    assert sample.holdout_rows == len(split(pandas_data.frame).holdout)
    assert feature_frame(sample.frame).equals(feature_frame(pandas_train))
    x = feature_frame(pandas_data.frame.head(300))
    spark_model, pandas_model = train(sample.frame, seed=3).pipeline, train(pandas_train, seed=3).pipeline
    assert np.array_equal(spark_model.predict_proba(x), pandas_model.predict_proba(x))


def test_above_the_cap_spark_samples_exactly_the_customers_pandas_samples(both):
    processed, _, pandas_data = both
    sample = training_sample(processed.frame, cap=500, seed=9)
    expected = sample_rows(split(pandas_data.frame).train, cap=500, seed=9)
    assert len(sample.frame) == 500
    assert list(sample.frame[ID_COLUMN]) == list(expected[ID_COLUMN])
    assert target(sample.frame).tolist() == target(expected).tolist()


@pytest.fixture
def tiny_arrow_batches(spark):
    """Seven rows per Arrow batch: the holdout is scored in many batches, not one."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "7")
    yield
    spark.conf.set(key, before)


def test_metrics_over_batches_equal_the_metrics_over_one_frame(spark, both, tiny_arrow_batches):
    processed, _, pandas_data = both
    parts = split(pandas_data.frame)
    pipeline = train(parts.train, seed=4).pipeline
    proba = pipeline.predict_proba(feature_frame(parts.holdout))[:, 1]
    y = target(parts.holdout).to_numpy()

    exact = exact_metrics(score(processed.frame.where("holdout"), pipeline, threads=1), threshold=0.4)

    assert exact.rows == len(parts.holdout)
    assert exact.positive_rate == pytest.approx(y.mean(), rel=1e-12)
    expected = classification_metrics(y, proba, threshold=0.4)
    assert exact.metrics.keys() == expected.keys()
    for name, value in expected.items():
        assert exact.metrics[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    expected_bins = table_as_dicts(reliability_table(y, proba))
    for got, want in zip(table_as_dicts(exact.reliability), expected_bins, strict=True):
        assert got.keys() == want.keys()
        for k in want:
            assert got[k] == (None if want[k] is None else pytest.approx(want[k], rel=1e-9)), (k, want)


def test_tied_scores_count_half_in_the_auc_as_in_scikit_learn(spark):
    y = [1, 0, 1, 0, 0, 1, 1, 0]
    p = [0.9, 0.9, 0.5, 0.5, 0.5, 0.2, 0.7, 0.1]  # ties across the classes
    scored = spark.createDataFrame(pd.DataFrame({"y": y, "p": p}), "y long, p double")
    expected = classification_metrics(np.array(y), np.array(p))
    assert exact_metrics(scored).metrics["roc_auc"] == pytest.approx(expected["roc_auc"], rel=1e-15)


def test_training_with_spark_fits_on_exactly_the_cap_and_logs_it(ml_stack, spark, processed_root):
    result = run_training(
        processed_uri=processed_root,
        model_name="churn-capped",
        models_root=f"s3://{BUCKETS['models']}/models",
        seed=5,
        spark=spark,
        max_train_rows=600,
    )
    available = len(split(read_processed(processed_root).frame).train)
    assert result["train_rows"] == result["max_train_rows"] == 600
    assert result["train_rows_available"] == available
    params = mlflow.MlflowClient().get_run(result["mlflow_run_id"]).data.params
    assert (params["max_train_rows"], params["train_rows"], params["train_rows_available"]) == (
        "600",
        "600",
        str(available),
    )
    # the registered model is the one fitted on the pandas sample of the same seed
    expected = train(sample_rows(split(read_processed(processed_root).frame).train, cap=600, seed=5), seed=5)
    x = feature_frame(read_processed(processed_root).frame.head(200))
    registered = mlflow.sklearn.load_model(result["model_uri"])
    assert np.array_equal(registered.predict_proba(x), expected.pipeline.predict_proba(x))

    results_root = f"s3://{BUCKETS['results']}/capped"
    common = dict(processed_uri=processed_root, model_name="churn-capped", results_root=results_root,
                  model_version=result["model_version"], min_roc_auc=0.5)  # fmt: skip
    in_spark, in_pandas = run_evaluation(**common, spark=spark), run_evaluation(**common)
    assert in_spark["holdout_rows"] == in_pandas["holdout_rows"] > 0
    for name, value in in_pandas["metrics"].items():
        assert in_spark["metrics"][name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    assert in_spark["gate"]["passed"] is in_pandas["gate"]["passed"] is True
