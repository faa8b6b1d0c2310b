"""A bucket's change token (`AwsSimulator.s3_changes`, sim/aws/moto_seams/s3_changes.py): it moves with every
change to the bucket's objects and with nothing else, so a poller may skip a listing while it stands still."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def bucket(aws) -> str:
    name = f"changes-{uuid.uuid4().hex[:8]}"
    aws.client("s3").create_bucket(Bucket=name)
    return name


def test_a_put_or_copy_changes_the_token_and_reads_do_not(aws, bucket):
    s3 = aws.client("s3")
    empty = aws.s3_changes(bucket)
    s3.put_object(Bucket=bucket, Key="in/a.csv", Body=b"a\n")
    after_put = aws.s3_changes(bucket)

    s3.get_object(Bucket=bucket, Key="in/a.csv")
    s3.head_object(Bucket=bucket, Key="in/a.csv")
    s3.list_objects_v2(Bucket=bucket)
    s3.put_object_tagging(Bucket=bucket, Key="in/a.csv", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    after_reads = aws.s3_changes(bucket)
    s3.copy_object(Bucket=bucket, Key="in/b.csv", CopySource={"Bucket": bucket, "Key": "in/a.csv"})

    assert empty is not None and after_put != empty
    assert after_reads == after_put
    assert aws.s3_changes(bucket) != after_put


def test_a_delete_changes_the_token(aws, bucket):
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    before = aws.s3_changes(bucket)

    s3.delete_object(Bucket=bucket, Key="a")

    assert aws.s3_changes(bucket) != before


def test_a_delete_in_a_versioned_bucket_changes_the_token(aws, bucket):
    s3 = aws.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    before = aws.s3_changes(bucket)

    s3.delete_object(Bucket=bucket, Key="a")  # a delete marker: the key's versions stay

    assert aws.s3_changes(bucket) != before
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_multipart_upload_changes_the_token_when_it_completes(aws, bucket):
    s3 = aws.client("s3")
    before = aws.s3_changes(bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 10)

    assert aws.s3_changes(bucket) == before  # parts are not objects yet
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert aws.s3_changes(bucket) != before


def test_a_missing_bucket_has_no_token_and_a_recreated_one_a_new_one(aws, bucket):
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    s3.delete_object(Bucket=bucket, Key="a")
    first = aws.s3_changes(bucket)
    s3.delete_bucket(Bucket=bucket)

    assert aws.s3_changes(bucket) is None
    s3.create_bucket(Bucket=bucket)
    assert aws.s3_changes(bucket) not in (None, first)
