# Databricks notebook source
# ruff: noqa: F821  (spark and dbutils are notebook globals on a cluster)
# QA notebook tests (seed 004 runs nutter tests in the QA workspace before promotion): each `test_*`
# asserts one thing about the ETL transforms on a tiny DataFrame. The notebook fails (and so the job
# run fails) when any test fails; `dbutils.notebook.exit` reports every test's outcome as JSON.

# COMMAND ----------

import json
import traceback
from datetime import date

from etl import reasons
from etl.transform import mark_duplicates, parse_csv, processed, validate, with_line_numbers

dbutils.widgets.text("min_valid_rows", "2")
MIN_VALID_ROWS = int(dbutils.widgets.get("min_valid_rows"))

HEADER = ["customer_id", "signup_date", "age", "city", "plan", "tenure_months", "monthly_charges",
          "total_charges", "support_calls", "churned"]  # fmt: skip
LINES = [
    "C00000001,2024-01-05,34,  new YORK ,premium,30,80.5,2415.0,1,0",
    "C00000002,2023-06-01,17,Boston,basic,3,20.0,60.0,0,1",  # age out of range
    "C00000001,2024-01-05,34,New York,premium,30,80.5,2415.0,1,0",  # duplicate customer_id
    "C00000003,2022-02-02,52,Austin,standard,10,45.0,450.0,4,1",
    "C00000004,not-a-date,40,Denver,basic,1,10.0,10.0,0,0",  # bad signup_date
]


def classified():
    lines = with_line_numbers(spark.createDataFrame([(line,) for line in LINES], "value string").coalesce(1))
    return mark_duplicates(validate(parse_csv(lines, HEADER)))


def test_every_raw_record_is_kept_once():
    assert classified().count() == len(LINES)


def test_out_of_range_age_is_quarantined_with_its_reason():
    row = classified().where("line_number = 2").first()
    assert row.reason == reasons.out_of_range("age"), row.reason


def test_second_copy_of_a_customer_is_a_duplicate():
    row = classified().where("line_number = 3").first()
    assert row.reason == reasons.DUPLICATE, row.reason


def test_bad_date_is_a_bad_type():
    row = classified().where("line_number = 5").first()
    assert row.reason == reasons.bad_type("signup_date"), row.reason


def test_processed_rows_are_the_valid_ones_with_derived_columns():
    out = processed(classified(), source_file="qa.csv", processing_date=date(2024, 1, 31)).orderBy("customer_id")
    rows = out.collect()
    assert len(rows) >= MIN_VALID_ROWS, f"expected at least {MIN_VALID_ROWS} valid rows, got {len(rows)}"
    first = rows[0]
    assert first.city == "New York", first.city
    assert first.is_long_tenure is True
    assert abs(first.charges_per_month_tenure - 80.5) < 1e-9, first.charges_per_month_tenure


results = {}
for name, test in sorted((n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)):
    try:
        test()
        results[name] = "passed"
    except Exception:  # report every test, then fail once
        results[name] = "failed: " + traceback.format_exc(limit=2).strip().splitlines()[-1]
        print(f"FAILED {name}\n{traceback.format_exc()}")

# COMMAND ----------

failed = {k: v for k, v in results.items() if v != "passed"}
if failed:
    raise AssertionError(f"{len(failed)} of {len(results)} notebook tests failed: {json.dumps(failed)}")
dbutils.notebook.exit(json.dumps(results))
