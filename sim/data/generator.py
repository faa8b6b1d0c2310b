"""Stream realistic raw customer files (CSV or JSON lines) of any size to disk, with dirty records on demand.

Memory stays constant: customers are drawn and written a chunk at a time. Everything comes from one
seeded `numpy.random.Generator`, so a (seed, rows, fmt, dirty_share, dirty_kinds) tuple always gives
the same bytes. The `GenerationReport` says exactly which defects were injected, so a test can assert
the ETL's quarantine counts to the record.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from sim.data.customers import COLUMNS, NON_ASCII_CITIES, CustomerChunk, draw_customers
from sim.data.dirty import BAD_VALUES, DIRTY_KINDS, OUTLIERS, DirtyKind, expected_reason, pick

__all__ = ["DIRTY_KINDS", "Format", "GenerationReport", "generate"]

Format = Literal["csv", "jsonl"]
CHUNK_ROWS = 20_000
_MISSING = object()  # a field left out of the record (empty CSV cell, absent or null JSON key)


class GeneratorError(ValueError):
    """Arguments the generator cannot honour; the message names the argument and what is allowed."""


@dataclass(frozen=True)
class GenerationReport:
    """What `generate` wrote: the ground truth the ETL's counts are checked against."""

    path: Path
    fmt: Format
    seed: int
    rows: int  # data records written (the CSV header is not a record)
    clean_rows: int
    dirty: dict[str, int] = field(default_factory=dict)  # by kind, e.g. {"outlier": 3}
    # by kind and column, e.g. {"missing_field:age": 2}; duplicates/malformed/encoding have no column
    dirty_fields: dict[str, int] = field(default_factory=dict)
    churned: int = 0  # churned customers among the clean rows
    bytes_written: int = 0

    @property
    def dirty_rows(self) -> int:
        return sum(self.dirty.values())

    @property
    def churn_rate(self) -> float:
        return self.churned / self.clean_rows if self.clean_rows else 0.0

    def expected_quarantine_reasons(self) -> dict[str, int]:
        """The ETL's `quarantine_reasons` for this file: one quarantined record per injected defect."""
        out: Counter[str] = Counter()
        for key, n in self.dirty_fields.items():
            kind, _, column = key.partition(":")
            out[expected_reason(kind, column or None)] += n  # type: ignore[arg-type]
        return dict(out)

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "fmt": self.fmt,
            "seed": self.seed,
            "rows": self.rows,
            "clean_rows": self.clean_rows,
            "dirty_rows": self.dirty_rows,
            "dirty": self.dirty,
            "dirty_fields": self.dirty_fields,
            "churn_rate": round(self.churn_rate, 4),
            "bytes_written": self.bytes_written,
            "expected_quarantine_reasons": self.expected_quarantine_reasons(),
        }


def generate(
    path: str | Path,
    *,
    rows: int,
    seed: int = 0,
    fmt: Format = "csv",
    dirty_share: float = 0.0,
    dirty_kinds: Iterable[DirtyKind] | None = None,
) -> GenerationReport:
    """Write `rows` customer records to `path`; a `dirty_share` of them carry one defect of `dirty_kinds`.

    `dirty_kinds` defaults to every kind. A `duplicate` repeats the line of an earlier clean customer
    (so the ETL keeps the first and quarantines the copy); when no clean customer precedes it, the row
    is written clean instead, and the report counts what was actually written.
    """
    kinds = _check_args(rows, fmt, dirty_share, dirty_kinds)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer = _Writer(fmt)
    dirty_fields: Counter[str] = Counter()
    churned = 0
    size = 0
    with path.open("wb", buffering=1 << 20) as out:
        if fmt == "csv":
            size += out.write((",".join(COLUMNS) + "\n").encode())
        for start in range(0, rows, CHUNK_ROWS):
            chunk = draw_customers(rng, start, min(CHUNK_ROWS, rows - start))
            plan = _dirty_plan(rng, len(chunk), dirty_share, kinds)
            lines = []
            for i, record in enumerate(_records(rng, chunk)):
                kind = plan[i]
                if kind == "duplicate" and writer.last_clean is None:
                    kind = None
                if kind is None:
                    line = writer.clean(record)
                    churned += int(record["churned"])
                else:
                    line, column = writer.dirty(rng, record, kind)
                    dirty_fields[f"{kind}:{column}" if column else kind] += 1
                lines.append(line)
            size += out.write(b"".join(lines))
    dirty = Counter()
    for key, n in dirty_fields.items():
        dirty[key.partition(":")[0]] += n
    return GenerationReport(
        path=path,
        fmt=fmt,
        seed=seed,
        rows=rows,
        clean_rows=rows - sum(dirty.values()),
        dirty=dict(sorted(dirty.items())),
        dirty_fields=dict(sorted(dirty_fields.items())),
        churned=churned,
        bytes_written=size,
    )


def _check_args(
    rows: int, fmt: str, dirty_share: float, dirty_kinds: Iterable[str] | None
) -> tuple[DirtyKind, ...]:
    if rows < 0:
        raise GeneratorError(f"rows must be >= 0, got {rows}")
    if fmt not in ("csv", "jsonl"):
        raise GeneratorError(f"fmt must be 'csv' or 'jsonl', got {fmt!r}")
    if not 0.0 <= dirty_share <= 1.0:
        raise GeneratorError(f"dirty_share must be between 0 and 1, got {dirty_share}")
    kinds = tuple(dirty_kinds) if dirty_kinds is not None else DIRTY_KINDS
    unknown = [k for k in kinds if k not in DIRTY_KINDS]
    if unknown or (dirty_share > 0 and not kinds):
        raise GeneratorError(
            f"dirty_kinds must be a non-empty subset of {list(DIRTY_KINDS)}, got {list(kinds)}"
        )
    return kinds  # type: ignore[return-value]


def _dirty_plan(
    rng: np.random.Generator, size: int, share: float, kinds: tuple[DirtyKind, ...]
) -> list[DirtyKind | None]:
    if share <= 0:
        return [None] * size
    is_dirty = rng.uniform(size=size) < share
    which = rng.integers(len(kinds), size=size)
    return [kinds[k] if d else None for d, k in zip(is_dirty, which, strict=True)]


def _records(rng: np.random.Generator, chunk: CustomerChunk) -> Iterator[dict[str, object]]:
    """Typed records, with the harmless mess real exports have: odd casing and padding of city and plan."""
    n = len(chunk)
    city_style = rng.integers(0, 20, size=n)  # 0: UPPER, 1: lower, 2: padded, else as is
    plan_style = rng.integers(0, 20, size=n)
    for i in range(n):
        yield {
            "customer_id": chunk.customer_id[i],
            "signup_date": chunk.signup_date[i],
            "age": int(chunk.age[i]),
            "city": _messy(chunk.city[i], int(city_style[i])),
            "plan": _messy(chunk.plan[i], int(plan_style[i])),
            "tenure_months": int(chunk.tenure_months[i]),
            "monthly_charges": float(chunk.monthly_charges[i]),
            "total_charges": float(chunk.total_charges[i]),
            "support_calls": int(chunk.support_calls[i]),
            "churned": int(chunk.churned[i]),
        }


def _messy(text: str, style: int) -> str:
    if style == 0:
        return text.upper()
    if style == 1:
        return text.lower()
    if style == 2:
        return f"  {text} "
    return text


class _Writer:
    """Serialises records as CSV or JSON lines, and applies one defect to a dirty record."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self.last_clean: bytes | None = None

    def clean(self, record: dict[str, object]) -> bytes:
        line = self._line(record)
        self.last_clean = line
        return line

    def dirty(
        self, rng: np.random.Generator, record: dict[str, object], kind: DirtyKind
    ) -> tuple[bytes, str]:
        """The defective line and the column the defect is in ("" when it is not about one column)."""
        if kind == "duplicate":
            assert self.last_clean is not None
            return self.last_clean, ""
        if kind == "missing_field":
            column = str(pick(rng, COLUMNS))
            return self._line({**record, column: _MISSING}, null_missing=bool(rng.integers(2))), column
        if kind == "bad_type":
            column = str(pick(rng, tuple(BAD_VALUES)))
            return self._line({**record, column: pick(rng, BAD_VALUES[column])}), column
        if kind == "outlier":
            column = str(pick(rng, tuple(OUTLIERS)))
            return self._line({**record, column: pick(rng, OUTLIERS[column])}), column
        if kind == "bad_encoding":
            city = str(pick(rng, NON_ASCII_CITIES))
            line = self._line({**record, "city": city})
            return line.replace(city.encode("utf-8"), city.encode("latin-1")), ""
        if kind == "malformed_line":
            return self._malformed(rng, record), ""
        raise AssertionError(kind)

    def _malformed(self, rng: np.random.Generator, record: dict[str, object]) -> bytes:
        line = self._line(record).rstrip(b"\n")
        if self.fmt == "csv":
            cells = line.split(b",")
            # ragged: too few cells, or one too many
            short = bool(rng.integers(2))
            cells = cells[: int(rng.integers(1, len(cells) - 1))] if short else [*cells, b"extra"]
            return b",".join(cells) + b"\n"
        # JSON cut short: any proper prefix of an object lacks its closing brace, so it never parses.
        return line[: int(rng.integers(1, len(line) - 1))] + b"\n"

    def _line(self, record: dict[str, object], *, null_missing: bool = False) -> bytes:
        if self.fmt == "csv":
            return (",".join(_cell(record[c]) for c in COLUMNS) + "\n").encode("utf-8")
        obj = {}
        for c in COLUMNS:
            value = record[c]
            if value is _MISSING:
                if null_missing:
                    obj[c] = None
                continue
            obj[c] = round(value, 2) if isinstance(value, float) else value
        return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def _cell(value: object) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
