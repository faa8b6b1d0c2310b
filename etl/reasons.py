"""The quarantine reasons, in one vocabulary shared by the ETL, its summary and the data generator.

A reason names the defect and the column, never the value: reasons are counted in the run summary
(`quarantine_reasons`), so they must group; the offending value stays in the quarantined `raw` text.
"""

from __future__ import annotations

MALFORMED = "malformed line"
BAD_ENCODING = "bad encoding"
DUPLICATE = "duplicate customer_id"


def missing(column: str) -> str:
    return f"missing {column}"


def bad_type(column: str) -> str:
    return f"bad type {column}"


def out_of_range(column: str) -> str:
    return f"out of range {column}"
