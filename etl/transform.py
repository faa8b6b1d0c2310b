"""Pure DataFrame steps of the ETL: number, parse, validate, de-duplicate, clean, derive, split.

Every raw record flows through as exactly one row until the final split, carrying either a null
`reason` (valid) or the first defect found; nothing is filtered out on the way, which is what makes
rows in = rows written + rows quarantined hold by construction (and `etl.pipeline` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

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
_FLAGS = {"0": 0, "1": 1, "false": 0, "true": 1}
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
    mid = lines.withColumn("_mid", F.monotonically_increasing_id())
    blank = F.length(F.trim(F.col("value"))) == 0
    per_partition = (
        mid.groupBy(F.shiftright("_mid", _MID_BITS).alias("pid"))
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.count(F.when(~blank, F.lit(1))).alias("non_blank"),
            F.min_by(F.struct(F.col("value"), blank.alias("blank")), F.col("_mid")).alias("first"),
        )
        .collect()
    )
    pids = sorted((int(r["pid"]), int(r["rows"])) for r in per_partition)
    starts = dict(zip([p for p, _ in pids], accumulate([0] + [n for _, n in pids]), strict=False))
    offset = F.lit(0).cast("long")
    for pid, start in starts.items():
        offset = F.when(F.shiftright("_mid", _MID_BITS) == pid, F.lit(start)).otherwise(offset)
    index = F.col("_mid").bitwiseAND(F.lit((1 << _MID_BITS) - 1))
    frame = mid.withColumn("line_number", (offset + index + 1).cast("long")).drop("_mid")
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
    return F.length(F.trim(F.col("value"))) > 0


def parse_csv(lines: DataFrame, header: list[str]) -> DataFrame:
    """Parse numbered CSV data lines (header excluded) into the raw string columns.

    Columns are matched by header name, so a file with reordered or extra columns still loads and a
    file lacking a column gets `missing <column>` for every record. A line with more or fewer cells
    than the header is malformed (Spark's CSV parser flags the length mismatch as a corrupt record).
    """
    names = [h.strip().lower() for h in header]
    ddl = ", ".join(f"`c{i}` string" for i in range(len(names))) + f", `{CORRUPT_COLUMN}` string"
    parsed = lines.withColumn(
        "_p", F.from_csv("value", ddl, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN})
    )
    by_name = {n: F.col(f"_p.c{i}") for i, n in reversed(list(enumerate(names)))}  # first occurrence wins
    return _raw_frame(
        parsed,
        [by_name.get(n, F.lit(None).cast("string")).alias(n) for n in RAW_NAMES],
        F.col(f"_p.{CORRUPT_COLUMN}").isNotNull(),
    )


def parse_json_lines(lines: DataFrame) -> DataFrame:
    """Parse numbered JSON lines: one object per line; anything else on a line is malformed.

    Fields are read as strings (Spark keeps a number's JSON text, e.g. 42 → "42") so types are
    checked by `validate` with a reason, not coerced by the reader.
    """
    ddl = RAW_SCHEMA_WITH_CORRUPT
    parsed = lines.withColumn(
        "_p", F.from_json("value", ddl, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN})
    )
    malformed = F.col("_p").isNull() | F.col(f"_p.{CORRUPT_COLUMN}").isNotNull()
    return _raw_frame(parsed, [F.col(f"_p.{n}").alias(n) for n in RAW_NAMES], malformed)


def parse_json_records(records: DataFrame) -> DataFrame:
    """A JSON array file, already read by Spark's multi-line JSON reader with `RAW_SCHEMA` + corrupt column.

    Records have no line of their own: `line_number` is the record's 1-based position in the array and
    `raw` its JSON text as Spark re-serialises it.
    """
    numbered = records.withColumn("line_number", F.monotonically_increasing_id() + 1)
    corrupt = F.col(CORRUPT_COLUMN) if CORRUPT_COLUMN in records.columns else F.lit(None).cast("string")
    value = F.coalesce(corrupt, F.to_json(F.struct(*[F.col(n) for n in RAW_NAMES])))
    framed = numbered.withColumn("value", value).withColumn("_p", F.struct(*[F.col(n) for n in RAW_NAMES]))
    return _raw_frame(framed, [F.col(f"_p.{n}").alias(n) for n in RAW_NAMES], corrupt.isNotNull())


def _raw_frame(parsed: DataFrame, columns: list[Column], malformed: Column) -> DataFrame:
    return parsed.select(
        "line_number",
        F.make_valid_utf8("value").alias("raw"),
        F.col("value").cast("binary").alias("raw_bytes"),
        F.is_valid_utf8("value").alias("_utf8"),
        malformed.alias("_malformed"),
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
    typed_cols: list[Column] = []
    for column in RAW_COLUMNS:
        value, parses = _typed(column, F.col(f"_t_{column.name}"))
        typed_cols += [
            value.alias(column.name),
            F.expr(f"`_s_{column.name}` IS NULL OR `_t_{column.name}` = '' AS `_missing_{column.name}`"),
            parses.alias(f"_parses_{column.name}"),
        ]
    typed = texts.select(*keep, *typed_cols)
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


def _typed(column: RawColumn, text: Column) -> tuple[Column, Column]:
    """(typed value, whether the text parses as the column's type)."""
    if column.kind == "int":
        return F.regexp_replace(text, r"\.0+$", "").try_cast("int"), text.rlike(_INT)
    if column.kind == "double":
        return text.try_cast("double"), text.rlike(_DOUBLE)
    if column.kind == "date":
        value = F.try_to_date(text, "yyyy-MM-dd")
        return value, text.rlike(_DATE) & value.isNotNull()
    if column.kind == "flag":
        value = F.lower(text)
        flag = F.coalesce(*[F.when(value == k, F.lit(v)) for k, v in _FLAGS.items()])
        return flag, flag.isNotNull()
    if column.kind == "plan":
        value = F.lower(text)
        return value, value.isin(*PLANS)
    if column.kind == "id":
        return text, text.rlike(CUSTOMER_ID_PATTERN)
    # free text (city): collapse inner whitespace, one casing for one place ("  NEW york " → "New York")
    return F.initcap(F.regexp_replace(text, r"\s+", " ")), F.lit(True)


def mark_duplicates(validated: DataFrame, *, partitions: int | None = None) -> DataFrame:
    """Keep the first valid record (lowest line number) of each customer_id; later copies get a reason.

    Only valid records compete: a rejected record is its own group (keyed by its line number), so a
    file with many bad lines does not pile them into one task. With `partitions` the records are first
    hash-partitioned by that key into that many tasks (the window reuses that partitioning): the ETL
    sizes it to the file (`rows_per_task`) so each task sorts, caches and counts a bounded number of
    rows, instead of `spark.sql.shuffle.partitions` tasks whatever the file's size.
    """
    key = F.when(F.col("reason").isNull(), F.col("customer_id")).otherwise(
        F.concat(F.lit("#"), F.col("line_number").cast("string"))  # never a customer_id (^C[0-9]+$)
    )
    keyed = validated.withColumn("_dedup_key", key)
    if partitions:
        keyed = keyed.repartition(partitions, "_dedup_key")
    rank = F.row_number().over(Window.partitionBy("_dedup_key").orderBy("line_number"))
    duplicate = F.col("reason").isNull() & (rank > 1)
    return keyed.withColumn(
        "reason", F.when(duplicate, F.lit(reasons.DUPLICATE)).otherwise(F.col("reason"))
    ).drop("_dedup_key")


def partitions_for(rows: int, *, configured: int, rows_per_task: int | None = None) -> int | None:
    """How many tasks de-duplicate `rows` records: None (Spark's own choice, `configured` shuffle
    partitions and adaptive execution) while that keeps tasks within `rows_per_task` (default
    `ROWS_PER_TASK`), else enough tasks."""
    needed = -(-rows // (rows_per_task or ROWS_PER_TASK))
    return needed if needed > configured else None


def processed(classified: DataFrame, *, source_file: str, processing_date: date) -> DataFrame:
    """The valid records, typed, with derived features, in `PROCESSED_SCHEMA` column order."""
    valid = classified.where(F.col("reason").isNull())
    tenure, age = F.col("tenure_months"), F.col("age")
    band = F.lit(OLDEST_AGE_BAND)
    for upper, label in reversed(AGE_BANDS):
        band = F.when(age < upper, F.lit(label)).otherwise(band)
    derived = valid.select(
        *RAW_NAMES,
        F.round(
            F.when(tenure > 0, F.col("total_charges") / tenure).otherwise(F.col("monthly_charges")), 4
        ).alias("charges_per_month_tenure"),
        (tenure >= LONG_TENURE_MONTHS).alias("is_long_tenure"),
        band.alias("age_band"),
        F.lit(source_file).alias("source_file"),
        F.lit(processing_date).alias("processing_date"),
    )
    return derived.select(*[F.col(f.name).cast(f.dataType) for f in PROCESSED_SCHEMA.fields])


def quarantined(classified: DataFrame, *, source_file: str, processing_date: date) -> DataFrame:
    """The rejected records with their raw text, reason and line number, in `QUARANTINE_SCHEMA` order."""
    rejected = classified.where(F.col("reason").isNotNull()).select(
        "raw",
        "raw_bytes",
        "reason",
        F.lit(source_file).alias("source_file"),
        "line_number",
        F.lit(processing_date).alias("processing_date"),
    )
    return rejected.select(*[F.col(f.name).cast(f.dataType) for f in QUARANTINE_SCHEMA.fields])
