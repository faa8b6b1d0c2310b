"""validate_file against moto S3: each kind of bad input is invalid with a message naming the problem."""

from __future__ import annotations

import json

import pytest

from lambdas import validate_file
from lambdas.validate_file import lambda_handler

BUCKET = "stepbricks-raw"
# Seed 003's sample files, as written.
SAMPLE_CSV = """id,name,age,city
1,John Doe,30,New York
2,Jane Smith,25,San Francisco
3,Robert Johnson,35,Chicago
4,Sarah Williams,28,Seattle
5,Michael Brown,40,Boston
"""
SAMPLE_JSON = json.dumps(
    [
        {"id": 1, "name": "John Doe", "age": 30, "city": "New York"},
        {"id": 2, "name": "Jane Smith", "age": 25, "city": "San Francisco"},
        {"id": 3, "name": "Robert Johnson", "age": 35, "city": "Chicago"},
    ]
)


def _validate(s3, key: str, body: bytes | str) -> dict:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)
    return lambda_handler({"bucket": BUCKET, "key": key})


def test_the_seed_sample_csv_is_valid_with_its_row_count_and_columns(s3):
    result = _validate(s3, "incoming/sample_data.csv", SAMPLE_CSV)
    assert result["isValid"] is True
    assert (result["fileType"], result["rowCount"]) == ("csv", 5)
    assert result["columns"] == ["id", "name", "age", "city"]
    assert (result["bucket"], result["key"]) == (BUCKET, "incoming/sample_data.csv")
    assert "error" not in result


def test_the_seed_sample_json_array_is_valid(s3):
    result = _validate(s3, "incoming/sample_data.json", SAMPLE_JSON)
    assert (result["isValid"], result["fileType"], result["rowCount"]) == (True, "json", 3)


def test_json_lines_are_valid_and_a_malformed_line_is_left_to_the_quarantine(s3):
    body = '{"id": 1}\n{"id": 2\n\n{"id": 3}\n'
    result = _validate(s3, "incoming/data.jsonl", body)
    assert (result["isValid"], result["fileType"], result["rowCount"]) == (True, "jsonl", 3)


def test_json_lines_in_a_json_file_are_recognised_as_jsonl(s3):
    result = _validate(s3, "incoming/data.json", '{"id": 1}\n{"id": 2}\n')
    assert (result["isValid"], result["fileType"], result["rowCount"]) == (True, "jsonl", 2)


@pytest.mark.parametrize(
    ("key", "body", "problem"),
    [
        ("incoming/empty.csv", "", "File is empty (0 bytes)"),
        ("incoming/blank.csv", "\n \n\r\n", "File is empty (only blank lines)"),
        ("incoming/header.csv", "id,name,age\n", "CSV file has a header but no data rows"),
        ("incoming/header-crlf.csv", "id,name,age\r\n\r\n", "CSV file has a header but no data rows"),
        ("incoming/report.xlsx", "PK\x03\x04", "Unsupported file extension '.xlsx'"),
        ("incoming/noext", "id\n1\n", "Unsupported file extension '(none)'"),
        ("incoming/broken.json", '[{"id": 1}, {"id": ', "Invalid JSON: Expecting"),
        ("incoming/scalar.json", "42", "JSON document is a int"),
        ("incoming/empty-array.json", "[]", "JSON array is empty"),
        ("incoming/notjson.jsonl", "hello\nworld\n", "none of the first 2 lines is a JSON object"),
        ("incoming/holes.csv", "id,,city\n1,2,3\n", "empty column name at position 2"),
        ("incoming/twice.csv", "id,name,id\n1,2,3\n", "repeats column names ['id']"),
        ("incoming/binary.csv", b"\x00\x01\x02id\x00\n\x00\x00\n", "not text"),
    ],
)
def test_bad_input_is_invalid_with_a_message_naming_the_problem(s3, key, body, problem):
    result = _validate(s3, key, body)
    assert result["isValid"] is False
    assert problem in result["error"]
    assert (result["bucket"], result["key"]) == (BUCKET, key)


def test_a_missing_object_is_invalid_not_a_crash(s3):
    result = lambda_handler({"bucket": BUCKET, "key": "incoming/gone.csv"})
    assert result["isValid"] is False
    assert "s3://stepbricks-raw/incoming/gone.csv does not exist" in result["error"]


def test_bad_bytes_never_crash_and_are_left_for_the_etl(s3):
    body = b"id,city\n1,S\xe3o Paulo\n2,\xff\xfe\n3,Z\xc3\xbcrich\n"
    result = _validate(s3, "incoming/latin1.csv", body)
    assert (result["isValid"], result["rowCount"]) == (True, 3)


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column_name(s3):
    result = _validate(s3, "incoming/bom.csv", "\ufeffid,name\n1,a\n")
    assert result["columns"] == ["id", "name"]


def test_large_files_are_streamed_only_the_sample_is_parsed(s3, monkeypatch):
    """Tiny reads and a 3-line sample: lines split across reads still count, the tail is only counted."""
    monkeypatch.setattr(validate_file, "CHUNK_BYTES", 7)
    monkeypatch.setattr(validate_file, "SAMPLE_LINES", 3)
    rows = "".join(f"{i},name-{i}\r\n" for i in range(1, 501))
    tail_garbage = '"unterminated,quote\n'  # past the sample: counted, never parsed
    result = _validate(s3, "incoming/big.csv", "id,name\r\n" + rows + "\n" + tail_garbage)
    assert (result["isValid"], result["rowCount"]) == (True, 501)


def test_a_json_document_too_large_to_parse_whole_must_be_json_lines(s3, monkeypatch):
    monkeypatch.setattr(validate_file, "MAX_JSON_DOCUMENT_BYTES", 20)
    array = _validate(s3, "incoming/big.json", SAMPLE_JSON)
    assert array["isValid"] is False
    assert "larger than 20 bytes is not JSON lines" in array["error"]
    lines = _validate(s3, "incoming/big-lines.json", '{"id": 1}\n{"id": 2}\n{"id": 3}\n')
    assert (lines["isValid"], lines["fileType"], lines["rowCount"]) == (True, "jsonl", 3)


@pytest.mark.parametrize(
    "event", [{"key": "a.csv"}, {"bucket": BUCKET}, {"bucket": BUCKET, "key": ""}, ["a"]]
)
def test_an_event_without_bucket_and_key_raises_InvalidInput(aws, event):
    from lambdas._errors import InvalidInput

    with pytest.raises(InvalidInput):
        lambda_handler(event)


REQUIRED = "customer_id,signup_date,age"


def test_a_csv_lacking_required_columns_is_refused_naming_each_missing_one(s3, monkeypatch):
    monkeypatch.setenv("REQUIRED_COLUMNS", REQUIRED)
    result = _validate(s3, "incoming/abc.csv", "a,b,c\n1,2,3\n")
    assert result["isValid"] is False
    assert "lacks the required columns ['customer_id', 'signup_date', 'age']" in result["error"]
    assert "it has ['a', 'b', 'c']" in result["error"]


def test_required_columns_match_as_the_etl_matches_them_trimmed_and_in_any_case(s3, monkeypatch):
    monkeypatch.setenv("REQUIRED_COLUMNS", REQUIRED)
    result = _validate(s3, "incoming/ok.csv", "\ufeff Customer_ID ,AGE,signup_date,extra\nC1,30,2020-01-01,x\n")
    assert (result["isValid"], result["rowCount"]) == (True, 1)
    partial = _validate(s3, "incoming/partial.csv", "customer_id,age\nC1,30\n")
    assert partial["isValid"] is False and "['signup_date']" in partial["error"]

