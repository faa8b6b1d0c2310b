"""S3 objects carry AWS's defaults: SSE-S3 encryption and a full-object checksum type
(sim/aws/moto_seams/s3_defaults.py; S3 User Guide, default encryption since January 2023)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket="stepbricks-s3-defaults")
    return client


def test_new_object_is_encrypted_with_sse_s3_by_default(s3):
    put = s3.put_object(Bucket="stepbricks-s3-defaults", Key="a", Body=b"x")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket="stepbricks-s3-defaults", Key="a")["ServerSideEncryption"] == "AES256"


def test_requested_encryption_wins_over_the_default(s3):
    put = s3.put_object(Bucket="stepbricks-s3-defaults", Key="kms", Body=b"x", ServerSideEncryption="aws:kms")
    assert put["ServerSideEncryption"] == "aws:kms"


def test_single_part_upload_checksum_is_full_object(s3):
    put = s3.put_object(Bucket="stepbricks-s3-defaults", Key="c", Body=b"text data", ChecksumAlgorithm="CRC32")
    assert put["ChecksumType"] == "FULL_OBJECT" and put["ChecksumCRC32"]
    got = s3.get_object(Bucket="stepbricks-s3-defaults", Key="c", ChecksumMode="ENABLED")
    assert got["ChecksumType"] == "FULL_OBJECT"


def test_s3_answers_carry_its_request_id_and_extended_request_id(s3):
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket="stepbricks-s3-defaults", Key="missing")
    metadata = raised.value.response["ResponseMetadata"]
    assert metadata["RequestId"] and metadata["HostId"]
    s3.put_object(Bucket="stepbricks-s3-defaults", Key="request-ids", Body=b"x")  # its own object: any order
    headers = s3.head_object(Bucket="stepbricks-s3-defaults", Key="request-ids")["ResponseMetadata"]["HTTPHeaders"]
    assert {"x-amz-request-id", "x-amz-id-2"} <= set(headers) and "x-amzn-requestid" not in headers
