"""The raw customer columns, without Spark: the deploy tells the validation Lambda which columns a file needs.

`etl.schema` builds the Spark schemas from these; a file lacking any of them would have every record
quarantined as `missing <column>`, so the validation Lambda refuses it up front (`REQUIRED_COLUMNS`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawColumn:
    """One raw column: its processed type and the inclusive range the business allows."""

    name: str
    kind: str  # "id" | "date" | "int" | "double" | "text" | "plan" | "flag"
    low: float | None = None
    high: float | None = None


RAW_COLUMNS: tuple[RawColumn, ...] = (
    RawColumn("customer_id", "id"),
    RawColumn("signup_date", "date"),
    RawColumn("age", "int", 18, 120),
    RawColumn("city", "text"),
    RawColumn("plan", "plan"),
    RawColumn("tenure_months", "int", 0, 600),
    RawColumn("monthly_charges", "double", 0, 10_000),
    RawColumn("total_charges", "double", 0, 10_000_000),
    RawColumn("support_calls", "int", 0, 100),
    RawColumn("churned", "flag"),
)
RAW_NAMES: tuple[str, ...] = tuple(c.name for c in RAW_COLUMNS)
