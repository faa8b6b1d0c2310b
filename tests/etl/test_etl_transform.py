"""The pure DataFrame steps on a handful of rows each."""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from etl import transform
from etl.schema import PROCESSED_SCHEMA, QUARANTINE_SCHEMA, RAW_NAMES
from tests import schedule

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group(schedule.SPARK_FIXTURE)]

HEADER = ",".join(RAW_NAMES)
GOOD = "C00000001,2024-05-01,30,  new   YORK ,Premium ,12,80.50,966.00,2,1"


def lines(spark, *texts: str):
    """Numbered data lines as the pipeline builds them (line 1 would be the header)."""
    return spark.createDataFrame([(t, i + 2) for i, t in enumerate(texts)], "value string, line_number long")


def classify(spark, *texts: str):
    return transform.mark_duplicates(transform.validate(transform.parse_csv(lines(spark, *texts), RAW_NAMES)))


def test_each_defect_gets_its_own_reason_and_a_valid_row_none(spark):
    rows = [
        GOOD,
        "C00000002,2024-05-01,,Boston,basic,3,20,60,0,0",  # missing age
        "C00000003,2024-05-01,forty,Boston,basic,3,20,60,0,0",
        "C00000004,2024-05-01,250,Boston,basic,3,20,60,0,0",
        "C00000005,2024-05-01,30,Boston,basic,3,-5,60,0,0",
        "C00000006,2024-05-01,30,Boston",  # ragged
        "C00000007,2021-02-30,30,Boston,basic,3,20,60,0,0",  # no such day
        "C00000008,2024-05-01,30,Boston,gold,3,20,60,0,0",
        "C00000009,2024-05-01,30,Boston,basic,3,20,60,0,maybe",
    ]
    got = classify(spark, *rows).select("line_number", "reason")
    expected = [
        (2, None),
        (3, "missing age"),
        (4, "bad type age"),
        (5, "out of range age"),
        (6, "out of range monthly_charges"),
        (7, "malformed line"),
        (8, "bad type signup_date"),
        (9, "bad type plan"),
        (10, "bad type churned"),
    ]
    assertDataFrameEqual(got, spark.createDataFrame(expected, "line_number long, reason string"))


def test_invalid_utf8_is_a_bad_encoding_and_keeps_its_exact_bytes(spark, tmp_path):
    path = tmp_path / "enc.csv"
    path.write_bytes(f"{HEADER}\nC00000001,2024-05-01,30,S\xe3o Paulo,basic,3,20,60,0,0\n".encode("latin-1"))
    numbered = transform.with_line_numbers(spark.read.text(str(path)))
    data = numbered.where("line_number > 1")
    row = transform.validate(transform.parse_csv(data, RAW_NAMES)).first()
    assert (row["reason"], row["line_number"]) == ("bad encoding", 2)
    assert bytes(row["raw_bytes"]) == "C00000001,2024-05-01,30,S\xe3o Paulo,basic,3,20,60,0,0".encode(
        "latin-1"
    )
    assert "\ufffd" in row["raw"]


def test_duplicate_customer_ids_keep_the_first_line_and_quarantine_the_rest(spark):
    later = GOOD.replace("80.50", "81.00")  # a re-sent record with a changed charge
    got = classify(spark, GOOD, "C00000002,2024-05-01,30,Boston,basic,3,20,60,0,0", later, GOOD)
    assertDataFrameEqual(
        got.select("line_number", "reason"),
        spark.createDataFrame(
            [(2, None), (3, None), (4, "duplicate customer_id"), (5, "duplicate customer_id")],
            "line_number long, reason string",
        ),
    )


def test_an_invalid_record_does_not_make_a_valid_one_with_its_id_a_duplicate(spark):
    broken = "C00000001,2024-05-01,forty,Boston,basic,3,20,60,0,0"
    got = classify(spark, broken, GOOD).select("line_number", "reason")
    assertDataFrameEqual(
        got, spark.createDataFrame([(2, "bad type age"), (3, None)], "line_number long, reason string")
    )


def test_processed_rows_are_typed_normalised_and_carry_derived_features(spark):
    classified = classify(spark, GOOD, "C00000002,2024-05-01,70,Zürich,basic,0,20,0,0,0")
    got = transform.processed(
        classified, source_file="s3://raw/incoming/x.csv", processing_date=date(2026, 1, 2)
    )
    expected = [
        Row(customer_id="C00000001", signup_date=date(2024, 5, 1), age=30, city="New York", plan="premium",
            tenure_months=12, monthly_charges=80.5, total_charges=966.0, support_calls=2, churned=1,
            charges_per_month_tenure=80.5, is_long_tenure=False, age_band="25-34",
            source_file="s3://raw/incoming/x.csv", processing_date=date(2026, 1, 2)),
        Row(customer_id="C00000002", signup_date=date(2024, 5, 1), age=70, city="Zürich", plan="basic",
            tenure_months=0, monthly_charges=20.0, total_charges=0.0, support_calls=0, churned=0,
            charges_per_month_tenure=20.0, is_long_tenure=False, age_band="65+",
            source_file="s3://raw/incoming/x.csv", processing_date=date(2026, 1, 2)),
    ]  # fmt: skip
    assertDataFrameEqual(got, spark.createDataFrame(expected, PROCESSED_SCHEMA))


def test_csv_columns_are_matched_by_header_name_not_position(spark):
    header = ["churned", *RAW_NAMES[:-1]]
    moved = "1,C00000001,2024-05-01,30,Boston,basic,30,20,600,0"
    got = transform.validate(transform.parse_csv(lines(spark, moved), header)).first()
    assert (got["reason"], got["customer_id"], got["churned"], got["tenure_months"]) == (
        None,
        "C00000001",
        1,
        30,
    )


def test_json_lines_numbers_are_accepted_and_non_objects_are_malformed(spark):
    good = ('{"customer_id": "C00000001", "signup_date": "2024-05-01", "age": 30, "city": "Boston", '
            '"plan": "basic", "tenure_months": 3, "monthly_charges": 20.5, "total_charges": 61, '
            '"support_calls": 0, "churned": true}')  # fmt: skip
    got = transform.validate(
        transform.parse_json_lines(lines(spark, good, "[1, 2]", '{"customer_id": "C1"'))
    ).select("line_number", "reason", "churned", "total_charges")
    expected = [(2, None, 1, 61.0), (3, "malformed line", None, None), (4, "malformed line", None, None)]
    assertDataFrameEqual(got, spark.createDataFrame(expected, "line_number long, reason string, churned int, "
                                                              "total_charges double"))  # fmt: skip


def test_line_numbers_follow_the_file_across_partitions(spark, tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("".join(f"{i}\n" for i in range(1, 5001)))
    key = "spark.sql.files.maxPartitionBytes"
    previous = spark.conf.get(key)
    spark.conf.set(key, "4096")  # split the 24 KB file into several partitions
    try:
        df = spark.read.text(str(path))
        assert df.rdd.getNumPartitions() > 1
        numbered = transform.with_line_numbers(df)
        assert numbered.where("cast(value as long) != line_number").count() == 0
        assert numbered.count() == 5000
    finally:
        spark.conf.set(key, previous)


def test_one_pass_over_the_lines_yields_the_header_and_the_non_blank_count(spark, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n   \n\n{GOOD}\n")
    numbered = transform.number_lines(spark.read.text(str(path)))
    assert numbered.first_line == HEADER
    assert not numbered.first_is_blank
    assert numbered.non_blank == 3  # the header and two records; the blank lines are not counted
    assert [r["line_number"] for r in numbered.frame.orderBy("line_number").collect()] == [1, 2, 3, 4, 5]


def test_a_blank_first_line_is_reported_as_blank_and_an_empty_file_has_no_first_line(spark, tmp_path):
    blank_first = tmp_path / "blank.csv"
    blank_first.write_text(f"  \n{GOOD}\n")
    numbered = transform.number_lines(spark.read.text(str(blank_first)))
    assert (numbered.first_line, numbered.first_is_blank, numbered.non_blank) == ("  ", True, 1)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    nothing = transform.number_lines(spark.read.text(str(empty)))
    assert (nothing.first_line, nothing.first_is_blank, nothing.non_blank) == (None, True, 0)


def test_reasons_written_as_sql_literals_read_back_unchanged(spark):
    texts = ["missing age", "it's", "back\\slash", "quote ' and \\' both"]
    got = spark.sql(
        "SELECT " + ", ".join(f"{transform._sql(t)} AS c{i}" for i, t in enumerate(texts))
    ).first()
    assert list(got) == texts


def test_both_outputs_carry_any_source_uri_verbatim_in_their_schemas_order(spark):
    """The source file is written into the SQL text as a literal: quotes, backslashes and non-ASCII survive."""
    uri = "s3://raw/incoming/o'brien\\q3 – zürich.csv"
    classified = classify(spark, GOOD, "C00000002,2024-05-01,17,Boston,basic,1,20,20,0,0")
    day = date(2026, 1, 2)
    kept = transform.processed(classified, source_file=uri, processing_date=day)
    rejected = transform.quarantined(classified, source_file=uri, processing_date=day)
    fields = lambda schema: [(f.name, f.dataType) for f in schema.fields]  # noqa: E731
    assert fields(kept.schema) == fields(PROCESSED_SCHEMA) and fields(rejected.schema) == fields(QUARANTINE_SCHEMA)
    assert [(r.source_file, r.processing_date) for r in kept.collect()] == [(uri, day)]
    assert [(r.source_file, r.reason, r.line_number) for r in rejected.collect()] == [(uri, "out of range age", 3)]
