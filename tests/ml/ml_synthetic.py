"""A processed customer table with a real, known churn signal, built in the test (contract columns).

Churn rises with support calls, monthly charges and young age, falls with tenure and premium plans;
the label is drawn from that probability, so a good model's holdout ROC AUC is well above 0.5 but
below 1 and the test cannot be passed by a constant.
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

CITIES = ("Lisbon", "Porto", "Madrid", "Berlin", "Paris", "Rome", "Dublin", "Vienna")
PLANS = ("basic", "standard", "premium")


def age_band(age: pd.Series) -> pd.Series:
    bands = pd.cut(
        age, bins=[0, 24, 34, 44, 54, 64, 200], labels=["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    )
    return bands.astype(str)


def processed_frame(
    n: int, *, seed: int, processing_date: str = "2026-11-01", id_offset: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    plan = rng.choice(PLANS, n, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(0, 73, n)
    base = pd.Series(plan).map({"basic": 30.0, "standard": 60.0, "premium": 90.0}).to_numpy()
    monthly = np.round(base + rng.normal(0, 8, n), 2)
    total = np.round(monthly * tenure + rng.normal(0, 20, n).clip(0), 2)
    calls = rng.poisson(1.5, n)
    plan_effect = pd.Series(plan).map({"basic": 0.4, "standard": 0.0, "premium": -0.6}).to_numpy()
    logit = -0.6 - 0.05 * tenure + 0.7 * calls + 0.02 * (monthly - 60) + plan_effect + 0.8 * (age < 25)
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:08d}" for i in range(id_offset, id_offset + n)],
            "signup_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
            "age": age.astype(np.int32),
            "city": rng.choice(CITIES, n),
            "plan": plan,
            "tenure_months": tenure.astype(np.int32),
            "monthly_charges": monthly,
            "total_charges": total,
            "support_calls": calls.astype(np.int32),
            "churned": churned.astype(np.int32),
        }
    )
    df["charges_per_month_tenure"] = df["total_charges"] / df["tenure_months"].clip(lower=1)
    df["is_long_tenure"] = df["tenure_months"] >= 24
    df["age_band"] = age_band(df["age"])
    df["source_file"] = "incoming/customers.csv"
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
