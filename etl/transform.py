"""Pure DataFrame steps of the ETL: number, parse, validate, de-duplicate, clean, derive, split.

Every raw record flows through as exactly one row until the final split, carrying either a null
`reason` (valid) or the first defect found; nothing is filtered out on the way, which is what makes
rows in = rows written + rows quarantined hold by construction (and `etl.pipeline` checks it).

Expressions are written as Spark SQL text (`selectExpr`, `F.expr`), not built with `pyspark.sql.functions`:
each function call, alias or cast of the Column API is a round trip to the JVM, and the ETL's ~50 columns
of checks made ~3,900 of them a run (~0.4 s of a 5,000-row run's ~1.8 s, docs/performance.md); a SQL text
is one. The plans Spark runs are the same: both are parsed into the same Catalyst expressions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from etl import reasons
from etl.columns import RawColumn
from etl.schema import (
    AGE_BANDS,
    CORRUPT_COLUMN,
    CUSTOMER_ID_PATTERN,
    LONG_TENURE_MONTHS,
    OLDEST_AGE_BAND,
    PLANS,
    PROCESSED_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_COLUMNS,
    RAW_NAMES,
    RAW_SCHEMA_WITH_CORRUPT,
)

_INT = r"^[+-]?[0-9]{1,9}(\.0+)?$"
_DOUBLE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRAILING_ZEROS = r"\.0+$"
_WHITESPACE = r"\s+"
_FLAGS = {"0": 0, "1": 1, "false": 0, "true": 1}
_PERMISSIVE = f"map('mode', 'PERMISSIVE', 'columnNameOfCorruptRecord', '{CORRUPT_COLUMN}')"
_MID_BITS = 33  # monotonically_increasing_id = partition id << 33 | row index within the partition
# Records per de-duplication task: ~100 MB of wide rows (raw text and bytes, typed columns), which a
# 1 GB driver sorts, caches and counts without the sort and aggregation spill merges running it out of
# heap (a 5M-row file in the default 2 tasks did: 2.5M rows per task).
ROWS_PER_TASK = 200_000


@dataclass(frozen=True)
class NumberedLines:
    """A text file's lines numbered in file order, and what one pass over them learnt.

    `first_line` is the file's line 1 (a CSV header; None for an empty file); `non_blank` counts the
    lines that are records or a header (see `non_blank`), `first_is_blank` whether line 1 is not one.
    """

    frame: DataFrame  # value, line_number
    first_line: str | None
    first_is_blank: bool
    non_blank: int


def number_lines(lines: DataFrame) -> NumberedLines:
    """Add a 1-based `line_number` to a `spark.read.text` frame of one file, in file order.

    Runs one small job (rows, non-blank rows and first line per partition) and derives each line's
    number from its partition's offset plus its index in the partition: no shuffle, and no round trip
    of the data through Python. The same job yields the header and the record count, so the ETL needs
    no other pass over the raw text before it parses it.
    """
    mid = lines.selectExpr("*", "monotonically_increasing_id() AS _mid")
    pid = f"shiftright(_mid, {_MID_BITS})"
    blank = "length(trim(value)) = 0"
    per_partition = (
        mid.groupBy(F.expr(f"{pid} AS pid"))
        .agg(
            F.expr("count(1) AS rows"),
            F.expr(f"count(CASE WHEN NOT ({blank}) THEN 1 END) AS non_blank"),
            F.expr(f"min_by(named_struct('value', value, 'blank', {blank}), _mid) AS first"),
        )
        .collect()
    )
    pids = sorted((int(r["pid"]), int(r["rows"])) for r in per_partition)
    starts = dict(zip([p for p, _ in pids], accumulate([0] + [n for _, n in pids]), strict=False))
    offset = "".join(f" WHEN {pid} = {p} THEN {start}" for p, start in starts.items())
    offset = f"CASE{offset} ELSE 0 END" if starts else "0"
    index = f"(_mid & {(1 << _MID_BITS) - 1})"
    frame = mid.withColumn("line_number", F.expr(f"CAST({offset} + {index} + 1 AS BIGINT)")).drop("_mid")
    first = min(per_partition, key=lambda r: int(r["pid"]))["first"] if per_partition else None
    return NumberedLines(
        frame=frame,
        first_line=None if first is None else first["value"],
        first_is_blank=True if first is None else bool(first["blank"]),
        non_blank=sum(int(r["non_blank"]) for r in per_partition),
    )


def with_line_numbers(lines: DataFrame) -> DataFrame:
    """`number_lines(lines).frame`: the numbered lines alone."""
    return number_lines(lines).frame


def non_blank(lines: DataFrame) -> Column:
    """Blank lines (e.g. a trailing newline pair) are not records."""
    return F.expr("length(trim(value)) > 0")


def parse_csv(lines: DataFrame, header: list[str]) -> DataFrame:
    """Parse numbered CSV data lines (header excluded) into the raw string columns.

    Columns are matched by header name, so a file with reordered or extra columns still loads and a
    file lacking a column gets `missing <column>` for every record. A line with more or fewer cells
    than the header is malformed (Spark's CSV parser flags the length mismatch as a corrupt record).
    """
    names = [h.strip().lower() for h in header]
    ddl = ", ".join(f"`c{i}` string" for i in range(len(names))) + f", `{CORRUPT_COLUMN}` string"
    parsed = lines.selectExpr("*", f"from_csv(value, {_sql(ddl)}, {_PERMISSIVE}) AS _p")
    by_name = {n: f"_p.`c{i}`" for i, n in reversed(list(enumerate(names)))}  # first occurrence wins
    return _raw_frame(
        parsed,
        [f"{by_name.get(n, 'CAST(NULL AS STRING)')} AS `{n}`" for n in RAW_NAMES],
        f"_p.`{CORRUPT_COLUMN}` IS NOT NULL",
    )


def parse_json_lines(lines: DataFrame) -> DataFrame:
    """Parse numbered JSON lines: one object per line; anything else on a line is malformed.

    Fields are read as strings (Spark keeps a number's JSON text, e.g. 42 → "42") so types are
    checked by `validate` with a reason, not coerced by the reader.
    """
    ddl = RAW_SCHEMA_WITH_CORRUPT.simpleString()
    parsed = lines.selectExpr("*", f"from_json(value, {_sql(ddl)}, {_PERMISSIVE}) AS _p")
    malformed = f"_p IS NULL OR _p.`{CORRUPT_COLUMN}` IS NOT NULL"
    return _raw_frame(parsed, [f"_p.`{n}` AS `{n}`" for n in RAW_NAMES], malformed)


def parse_json_records(records: DataFrame) -> DataFrame:
    """A JSON array file, already read by Spark's multi-line JSON reader with `RAW_SCHEMA` + corrupt column.

    Records have no line of their own: `line_number` is the record's 1-based position in the array and
    `raw` its JSON text as Spark re-serialises it.
    """
    numbered = records.selectExpr("*", "monotonically_increasing_id() + 1 AS line_number")
    corrupt = f"`{CORRUPT_COLUMN}`" if CORRUPT_COLUMN in records.columns else "CAST(NULL AS STRING)"
    fields = ", ".join(f"`{n}`" for n in RAW_NAMES)
    framed = numbered.selectExpr(
        "*", f"coalesce({corrupt}, to_json(struct({fields}))) AS value", f"struct({fields}) AS _p"
    )
    return _raw_frame(framed, [f"_p.`{n}` AS `{n}`" for n in RAW_NAMES], f"{corrupt} IS NOT NULL")


def _raw_frame(parsed: DataFrame, columns: list[str], malformed: str) -> DataFrame:
    return parsed.selectExpr(
        "line_number",
        "make_valid_utf8(value) AS raw",
        "CAST(value AS BINARY) AS raw_bytes",
        "is_valid_utf8(value) AS _utf8",
        f"{malformed} AS _malformed",
        *columns,
    )


def validate(raw: DataFrame) -> DataFrame:
    """Add `reason` (null when valid) and the typed columns; the first defect found names the reason.

    Order: bad encoding, malformed line, then column by column (schema order) missing → bad type →
    out of range. A record has one reason even when it has several defects.

    Built as three projections so each column's trimmed text, typed value and checks are computed
    once per row: a single projection would repeat them inside every branch of the reason's
    `coalesce` (Spark does not share sub-expressions across conditional branches), and the optimizer
    keeps projections apart when merging them would duplicate such non-trivial expressions.
    """
    keep = ["line_number", "raw", "raw_bytes", "_utf8", "_malformed"]
    # The plain parts are SQL text: one round trip to the JVM per projection instead of one per call.
    texts = raw.selectExpr(
        *keep,
        *[f"`{c.name}` AS `_s_{c.name}`" for c in RAW_COLUMNS],
        *[f"trim(`{c.name}`) AS `_t_{c.name}`" for c in RAW_COLUMNS],
    )
    typed_cols: list[str] = []
    for column in RAW_COLUMNS:
        value, parses = _typed(column, f"`_t_{column.name}`")
        typed_cols += [
            f"{value} AS `{column.name}`",
            f"`_s_{column.name}` IS NULL OR `_t_{column.name}` = '' AS `_missing_{column.name}`",
            f"{parses} AS `_parses_{column.name}`",
        ]
    typed = texts.selectExpr(*keep, *typed_cols)
    checks = [f"CASE WHEN NOT _utf8 THEN {_sql(reasons.BAD_ENCODING)} END",
              f"CASE WHEN _malformed THEN {_sql(reasons.MALFORMED)} END"]  # fmt: skip
    for column in RAW_COLUMNS:
        name = column.name
        checks.append(f"CASE WHEN `_missing_{name}` THEN {_sql(reasons.missing(name))} END")
        checks.append(f"CASE WHEN NOT `_parses_{name}` THEN {_sql(reasons.bad_type(name))} END")
        if column.low is not None:
            in_range = f"`{name}` BETWEEN {column.low!r} AND {column.high!r}"
            checks.append(f"CASE WHEN NOT ({in_range}) THEN {_sql(reasons.out_of_range(name))} END")
    reason = f"coalesce({', '.join(checks)}) AS reason"
    return typed.selectExpr("line_number", "raw", "raw_bytes", reason, *[f"`{n}`" for n in RAW_NAMES])


def _sql(text: str) -> str:
    """`text` as a Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _typed(column: RawColumn, text: str) -> tuple[str, str]:
    """(typed value, whether the text parses as the column's type), as SQL over the trimmed text `text`."""
    if column.kind == "int":
        return f"try_cast(regexp_replace({text}, {_sql(_TRAILING_ZEROS)}, '') AS INT)", f"{text} RLIKE {_sql(_INT)}"
    if column.kind == "double":
        return f"try_cast({text} AS DOUBLE)", f"{text} RLIKE {_sql(_DOUBLE)}"
    if column.kind == "date":
        value = f"try_to_date({text}, 'yyyy-MM-dd')"
        return value, f"{text} RLIKE {_sql(_DATE)} AND {value} IS NOT NULL"
    if column.kind == "flag":
        flag = "CASE lower(" + text + ")" + "".join(f" WHEN {_sql(k)} THEN {v}" for k, v in _FLAGS.items()) + " END"
        return flag, f"{flag} IS NOT NULL"
    if column.kind == "plan":
        return f"lower({text})", f"lower({text}) IN ({', '.join(_sql(p) for p in PLANS)})"
    if column.kind == "id":
        return text, f"{text} RLIKE {_sql(CUSTOMER_ID_PATTERN)}"
    # free text (city): collapse inner whitespace, one casing for one place ("  NEW york " → "New York")
    return f"initcap(regexp_replace({text}, {_sql(_WHITESPACE)}, ' '))", "true"


def mark_duplicates(validated: DataFrame, *, partitions: int | None = None) -> DataFrame:
    """Keep the first valid record (lowest line number) of each customer_id; later copies get a reason.

    Only valid records compete: a rejected record is its own group (keyed by its line number), so a
    file with many bad lines does not pile them into one task. With `partitions` the records are first
    hash-partitioned by that key into that many tasks (the window reuses that partitioning): the ETL
    sizes it to the file (`rows_per_task`) so each task sorts, caches and counts a bounded number of
    rows, instead of `spark.sql.shuffle.partitions` tasks whatever the file's size.
    """
    # "#<line>" is never a customer_id (^C[0-9]+$)
    keyed = validated.withColumn(
        "_dedup_key", F.expr("CASE WHEN reason IS NULL THEN customer_id ELSE concat('#', line_number) END")
    )
    if partitions:
        keyed = keyed.repartition(partitions, "_dedup_key")
    rank = "row_number() OVER (PARTITION BY _dedup_key ORDER BY line_number)"
    duplicate = F.expr(f"CASE WHEN reason IS NULL AND {rank} > 1 THEN {_sql(reasons.DUPLICATE)} ELSE reason END")
    return keyed.withColumn("reason", duplicate).drop("_dedup_key")


def partitions_for(rows: int, *, configured: int, rows_per_task: int | None = None) -> int | None:
    """How many tasks de-duplicate `rows` records: None (Spark's own choice, `configured` shuffle
    partitions and adaptive execution) while that keeps tasks within `rows_per_task` (default
    `ROWS_PER_TASK`), else enough tasks."""
    needed = -(-rows // (rows_per_task or ROWS_PER_TASK))
    return needed if needed > configured else None


def processed(classified: DataFrame, *, source_file: str, processing_date: date) -> DataFrame:
    """The valid records, typed, with derived features, in `PROCESSED_SCHEMA` column order."""
    bands = "".join(f" WHEN age < {upper} THEN {_sql(label)}" for upper, label in AGE_BANDS)
    derived = {
        **{n: f"`{n}`" for n in RAW_NAMES},
        "charges_per_month_tenure": "round(CASE WHEN tenure_months > 0 THEN total_charges / tenure_months"
        " ELSE monthly_charges END, 4)",
        "is_long_tenure": f"tenure_months >= {LONG_TENURE_MONTHS}",
        "age_band": f"CASE{bands} ELSE {_sql(OLDEST_AGE_BAND)} END",
        "source_file": _sql(source_file),
        "processing_date": f"DATE {_sql(processing_date.isoformat())}",
    }
    return classified.where("reason IS NULL").selectExpr(*_as_schema(PROCESSED_SCHEMA, derived))


def quarantined(classified: DataFrame, *, source_file: str, processing_date: date) -> DataFrame:
    """The rejected records with their raw text, reason and line number, in `QUARANTINE_SCHEMA` order."""
    columns = {
        **{n: f"`{n}`" for n in ("raw", "raw_bytes", "reason", "line_number")},
        "source_file": _sql(source_file),
        "processing_date": f"DATE {_sql(processing_date.isoformat())}",
    }
    return classified.where("reason IS NOT NULL").selectExpr(*_as_schema(QUARANTINE_SCHEMA, columns))


def _as_schema(schema: StructType, expressions: dict[str, str]) -> list[str]:
    """`schema`'s fields in order, each its SQL expression cast to the field's type."""
    return [f"CAST({expressions[f.name]} AS {f.dataType.simpleString()}) AS `{f.name}`" for f in schema.fields]
