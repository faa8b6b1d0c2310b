"""The batch's data-quality checks, from the counts the pipeline gathers in one aggregation."""

from __future__ import annotations

from etl.quality import quality


def counts(**overrides):
    base = {
        "rows_in": 100,
        "written": 95,
        "quarantined": 5,
        "distinct_ids": 95,
        "churned": 20,
        "max_share": 0.1,
    }
    return {**base, **overrides}


def test_a_balanced_batch_with_unique_ids_and_both_classes_passes():
    dq = quality(**counts())
    assert dq["passed"]
    assert all(c["passed"] for c in dq["checks"].values())


def test_each_check_fails_on_its_own_defect():
    cases = {
        "rows_balance": counts(rows_in=101),
        "customer_id_unique": counts(distinct_ids=94),
        "both_churn_classes": counts(churned=0),
        "quarantine_share": counts(written=85, quarantined=15, distinct_ids=85),
        "output_not_empty": counts(written=0, quarantined=100, distinct_ids=0, churned=0, max_share=1.0),
    }
    for name, given in cases.items():
        dq = quality(**given)
        assert not dq["passed"], name
        assert not dq["checks"][name]["passed"], name
