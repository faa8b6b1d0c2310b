"""A processed customer table built in the test from the project's own generator (`sim.data.customers`).

The generator draws churn from a known logistic signal (tenure, plan, charges, support calls, age,
city) plus noise, so a good model's holdout ROC AUC is well above 0.5 but below 1 and no constant
passes. The derived columns follow `etl.transform.processed`.
"""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.data.customers import draw_customers

AGE_BANDS = ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


def age_band(age: pd.Series) -> pd.Series:
    bands = pd.Series("65+", index=age.index)
    for upper, label in reversed(AGE_BANDS):
        bands = bands.where(age >= upper, label)
    return bands


def processed_frame(
    n: int, *, seed: int, processing_date: str = "2026-11-01", id_offset: int = 0
) -> pd.DataFrame:
    chunk = draw_customers(np.random.default_rng(seed), id_offset, n)
    df = pd.DataFrame(
        {
            "customer_id": chunk.customer_id,
            "signup_date": pd.to_datetime(chunk.signup_date).date,
            "age": chunk.age.astype(np.int32),
            "city": chunk.city,
            "plan": chunk.plan,
            "tenure_months": chunk.tenure_months.astype(np.int32),
            "monthly_charges": chunk.monthly_charges,
            "total_charges": chunk.total_charges,
            "support_calls": chunk.support_calls.astype(np.int32),
            "churned": chunk.churned.astype(np.int32),
        }
    )
    tenure = df["tenure_months"]
    df["charges_per_month_tenure"] = (
        (df["total_charges"] / tenure.where(tenure > 0)).fillna(df["monthly_charges"]).round(4)
    )
    df["is_long_tenure"] = tenure >= 24
    df["age_band"] = age_band(df["age"])
    df["source_file"] = "s3://stepbricks-raw/incoming/customers.csv"
    df["processing_date"] = processing_date
    return df


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(df.drop(columns=["processing_date"]), preserve_index=False), buffer)
    return buffer.getvalue()


def batch_objects(
    df: pd.DataFrame, batch_id: str, *, manifest: bool = True, parts: int = 2
) -> dict[str, bytes]:
    """Relative key -> bytes for one batch in the contract layout (partition column only in the path)."""
    objects: dict[str, bytes] = {}
    for date, group in df.groupby("processing_date"):
        bounds = np.linspace(0, len(group), parts + 1).astype(int)
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            chunk = group.iloc[lo:hi]
            key = f"batch_id={batch_id}/processing_date={date}/part-{i:05d}.snappy.parquet"
            objects[key] = parquet_bytes(chunk)
    if manifest:
        objects[f"batch_id={batch_id}/_manifest.json"] = json.dumps(
            {"batch_id": batch_id, "rows": len(df)}
        ).encode()
    return objects


def write_local_batch(root: Path, df: pd.DataFrame, batch_id: str, *, manifest: bool = True) -> None:
    for key, data in batch_objects(df, batch_id, manifest=manifest).items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
