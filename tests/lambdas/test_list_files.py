"""list_files against moto S3: every page, no folder markers, a clear limit."""

from __future__ import annotations

import pytest

from lambdas import list_files
from lambdas.list_files import TooManyFiles, lambda_handler


def test_files_under_the_prefix_are_listed_across_pages(s3, monkeypatch):
    monkeypatch.setattr(list_files, "PAGE_SIZE", 2)
    for i in range(5):  # three pages of ListObjectsV2
        s3.put_object(Bucket="stepbricks-raw", Key=f"batch/part-{i:04d}.csv", Body=b"id\n1\n")
    s3.put_object(Bucket="stepbricks-raw", Key="batch/", Body=b"")
    s3.put_object(Bucket="stepbricks-raw", Key="elsewhere/x.csv", Body=b"id\n1\n")
    files = lambda_handler({"bucket": "stepbricks-raw", "prefix": "batch/"})["files"]
    assert [f["key"] for f in files] == [f"batch/part-{i:04d}.csv" for i in range(5)]
    assert files[0]["bucket"] == "stepbricks-raw"
    assert files[0]["key"] == "batch/part-0000.csv"
    assert files[0]["size"] == 5
    assert not files[0]["etag"].startswith('"')


def test_an_empty_prefix_lists_nothing(s3):
    assert lambda_handler({"bucket": "stepbricks-raw", "prefix": "nothing/"}) == {"files": []}


def test_more_files_than_a_map_input_can_carry_is_an_error(s3, monkeypatch):
    monkeypatch.setattr(list_files, "MAX_FILES", 2)
    for i in range(3):
        s3.put_object(Bucket="stepbricks-raw", Key=f"batch/{i}.csv", Body=b"id\n1\n")
    with pytest.raises(TooManyFiles, match="more than 2 files under s3://stepbricks-raw/batch/"):
        lambda_handler({"bucket": "stepbricks-raw", "prefix": "batch/"})
