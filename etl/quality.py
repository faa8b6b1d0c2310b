"""Data-quality checks of one batch, reported in the run summary (`dq`) for the state machine and people.

They do not fail the job: bad records are already quarantined; these say whether the batch as a whole
is fit for training, and the state machine or a human decides what to do with a failed check.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def check(passed: bool, observed: object, expected: str) -> dict:
    return {"passed": bool(passed), "observed": observed, "expected": expected}


def quality(classified: DataFrame, *, rows_in: int, written: int, quarantined: int, max_share: float) -> dict:
    """`{"passed": all checks passed, "checks": {name: {"passed", "observed", "expected"}}}`."""
    valid = classified.where(F.col("reason").isNull())
    row = valid.agg(F.countDistinct("customer_id").alias("ids"), F.sum("churned").alias("churned")).first()
    ids, churned = int(row["ids"] or 0), int(row["churned"] or 0)
    share = round(quarantined / rows_in, 6) if rows_in else 0.0
    checks = {
        "rows_balance": check(
            rows_in == written + quarantined,
            {"rows_in": rows_in, "written": written, "quarantined": quarantined},
            "rows_in == written + quarantined",
        ),
        "output_not_empty": check(written > 0, written, "> 0"),
        "quarantine_share": check(share <= max_share, share, f"<= {max_share}"),
        "customer_id_unique": check(ids == written, ids, f"== rows written ({written})"),
        "both_churn_classes": check(0 < churned < written, churned, f"0 < churned < {written}"),
    }
    return {"passed": all(c["passed"] for c in checks.values()), "checks": checks}
