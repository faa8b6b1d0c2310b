"""The contract between the rooms, end to end: what the real ETL writes is what training reads.

The generator writes a raw file with dirty records, the real `etl.pipeline.run_etl` processes it on the
shared local SparkSession, and `ml` reads the batch the ETL summary names and learns from it.
"""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from etl.pipeline import run_etl
from etl.storage import Storage
from ml.data import read_processed
from ml.features import feature_frame, split, target
from ml.train import train
from sim.data import generate
from tests import schedule

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group(schedule.SPARK_FIXTURE)]


def test_training_reads_exactly_the_rows_the_etl_committed_and_learns_from_them(spark, tmp_path):
    report = generate(tmp_path / "customers.csv", rows=6_000, seed=3, dirty_share=0.02)
    summary = run_etl(
        spark,
        source_uri=str(report.path),
        processed_root=str(tmp_path / "processed"),
        quarantine_root=str(tmp_path / "quarantine"),
        processing_date="2026-11-20",
    )

    data = read_processed(summary["output_uri"])
    assert len(data.frame) == summary["rows_written"]
    with Storage(spark) as etl_storage:  # the ETL's own adapter is accepted as `storage=` unchanged
        assert read_processed(summary["output_uri"], storage=etl_storage).frame.equals(data.frame)
    assert data.duplicates_dropped == 0  # the ETL already de-duplicated by customer_id
    assert set(data.frame["processing_date"].astype(str)) == {"2026-11-20"}

    parts = split(data.frame)
    result = train(parts.train, seed=42)
    proba = result.pipeline.predict_proba(feature_frame(parts.holdout))[:, 1]
    assert roc_auc_score(target(parts.holdout), proba) > 0.75
