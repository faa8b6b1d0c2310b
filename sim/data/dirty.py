"""The kinds of dirty record the generator can inject, one defect per record.

Each dirty record carries exactly one defect so the ETL's quarantine reason for it is predictable:
`expected_reason(kind, field)` names it in the ETL's own words (`etl.reasons`), which is what lets
tests assert exact quarantine counts against a `GenerationReport`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from etl import reasons

DirtyKind = Literal["missing_field", "bad_type", "duplicate", "malformed_line", "bad_encoding", "outlier"]
DIRTY_KINDS: tuple[DirtyKind, ...] = (
    "missing_field",
    "bad_type",
    "duplicate",
    "malformed_line",
    "bad_encoding",
    "outlier",
)

# Values that look plausible to a human but do not parse as the column's type (no commas or quotes:
# a bad type must not also make the CSV line ragged).
BAD_VALUES: dict[str, tuple[str, ...]] = {
    "customer_id": ("12345", "customer-7"),
    "signup_date": ("31/12/2021", "2021-02-30", "last tuesday"),
    "age": ("forty", "42 years", "4O"),
    "plan": ("gold", "n/a"),
    "tenure_months": ("12.5", "twelve"),
    "monthly_charges": ("$49.99", "n/a"),
    "total_charges": ("abc", "1.2.3"),
    "support_calls": ("many", "-"),
    "churned": ("maybe", "2"),
}

# Values of the right type but outside what the business allows (age 250, negative charges).
OUTLIERS: dict[str, tuple[int | float, ...]] = {
    "age": (250, 150, -4),
    "tenure_months": (1200, -1),
    "monthly_charges": (-19.99, -250.0),
    "total_charges": (-120.5, -3.0),
    "support_calls": (999, -2),
}


def expected_reason(kind: DirtyKind, field: str | None) -> str:
    """The quarantine reason the ETL gives a record with this one defect."""
    if kind == "missing_field":
        return reasons.missing(field or "")
    if kind == "bad_type":
        return reasons.bad_type(field or "")
    if kind == "outlier":
        return reasons.out_of_range(field or "")
    return {
        "duplicate": reasons.DUPLICATE,
        "malformed_line": reasons.MALFORMED,
        "bad_encoding": reasons.BAD_ENCODING,
    }[kind]


def pick(rng: np.random.Generator, options: tuple) -> object:
    return options[int(rng.integers(len(options)))]
