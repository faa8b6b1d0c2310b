"""Data-quality checks of one batch, reported in the run summary (`dq`) for the state machine and people.

They do not fail the job: bad records are already quarantined; these say whether the batch as a whole
is fit for training, and the state machine or a human decides what to do with a failed check.
"""

from __future__ import annotations


def check(passed: bool, observed: object, expected: str) -> dict:
    return {"passed": bool(passed), "observed": observed, "expected": expected}


def quality(
    *, rows_in: int, written: int, quarantined: int, distinct_ids: int, churned: int, max_share: float
) -> dict:
    """`{"passed": all checks passed, "checks": {name: {"passed", "observed", "expected"}}}`.

    Takes the batch's counts, not the DataFrame: `etl.pipeline` gathers them in the one aggregation
    that also counts the reasons (distinct customer_ids and churned among the valid rows).
    """
    ids = distinct_ids
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
