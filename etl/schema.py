"""The explicit schemas of the customer dataset: raw (as read), processed (as written), quarantine.

Raw columns are read as strings on purpose: types are checked by `etl.transform.validate`, which names
the column and the defect for every rejected record instead of letting a reader turn bad values into
nulls silently.
"""

from __future__ import annotations

from pyspark.sql.types import (
    BinaryType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from etl.columns import RAW_COLUMNS, RAW_NAMES

SCHEMA_VERSION = 1
CORRUPT_COLUMN = "_corrupt_record"


PLANS: tuple[str, ...] = ("basic", "standard", "premium")
CUSTOMER_ID_PATTERN = r"^C[0-9]+$"
LONG_TENURE_MONTHS = 24
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (25, "18-24"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (65, "55-64"),
)
OLDEST_AGE_BAND = "65+"

RAW_SCHEMA = StructType([StructField(n, StringType(), True) for n in RAW_NAMES])
# What the JSON readers parse into: a record that is not a JSON object lands whole in the corrupt column.
RAW_SCHEMA_WITH_CORRUPT = StructType([*RAW_SCHEMA.fields, StructField(CORRUPT_COLUMN, StringType(), True)])

_TYPES = {
    "id": StringType(),
    "date": DateType(),
    "int": IntegerType(),
    "double": DoubleType(),
    "text": StringType(),
    "plan": StringType(),
    "flag": IntegerType(),
}

PROCESSED_SCHEMA = StructType(
    [StructField(c.name, _TYPES[c.kind], True) for c in RAW_COLUMNS]
    + [
        StructField("charges_per_month_tenure", DoubleType(), True),
        StructField("is_long_tenure", BooleanType(), True),
        StructField("age_band", StringType(), True),
        StructField("source_file", StringType(), True),
        StructField("processing_date", DateType(), True),
    ]
)

# Every field is nullable: Spark writes file sources as nullable whatever the DataFrame says, so this is
# also the schema a reader gets back. Non-null-ness of processed columns is guaranteed by validation.
# `raw` is the record as valid UTF-8 (undecodable bytes become U+FFFD) so any reader can open it;
# `raw_bytes` keeps the exact bytes read, so nothing is lost even for a bad encoding.
QUARANTINE_SCHEMA = StructType(
    [
        StructField("raw", StringType(), True),
        StructField("raw_bytes", BinaryType(), True),
        StructField("reason", StringType(), True),
        StructField("source_file", StringType(), True),
        StructField("line_number", LongType(), True),
        StructField("processing_date", DateType(), True),
    ]
)
