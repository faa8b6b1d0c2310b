"""S3 objects with the defaults AWS has given every object since 2023 (SSE-S3 encryption, a full-object
checksum type), and S3's `x-amz-id-2` on every answer.

Since January 2023 S3 encrypts every new object with SSE-S3 unless the bucket or the request says
otherwise (S3 User Guide, "Setting default server-side encryption behavior for Amazon S3 buckets"), so
PutObject/GetObject/HeadObject answer `ServerSideEncryption: AES256`; a single-part upload's checksum is of
type `FULL_OBJECT` ("Checking object integrity"). moto stored objects unencrypted and without a checksum
type. Both show in Step Functions' `aws-sdk:s3` results recorded on AWS (LocalStack's
tests/aws/services/stepfunctions/v2/services/test_aws_sdk_task_service.snapshot.json). Registered with
`core.register` at import.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from moto.s3.models import S3Backend
from moto.s3.responses import S3Response

from sim.aws.moto_seams.core import Seam, register

__all__ = ["DEFAULT_ENCRYPTION"]

DEFAULT_ENCRYPTION = "AES256"
_ORIGINAL_PUT_OBJECT = S3Backend.put_object
_ORIGINAL_PUT_OBJECT_RESPONSE = S3Response.put_object


def _put_object(self: S3Backend, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any) -> Any:
    """Wraps `S3Backend.put_object`.

    Restores: an object put without encryption into a bucket without a default-encryption rule is
    encrypted with SSE-S3 (`AES256`); a single-part object's checksum is of type FULL_OBJECT.
    """
    if not args and kwargs.get("encryption") is None and not self.get_bucket(bucket_name).encryption:
        kwargs["encryption"] = DEFAULT_ENCRYPTION
    key = _ORIGINAL_PUT_OBJECT(self, bucket_name, key_name, value, *args, **kwargs)
    if kwargs.get("checksum_value") and kwargs.get("multipart") is None and getattr(key, "checksum_type", None) is None:
        key.checksum_type = "FULL_OBJECT"
    return key


def _put_object_response(self: S3Response) -> Any:
    """Wraps `S3Response.put_object`: the response names the checksum's type (`x-amz-checksum-type:
    FULL_OBJECT`) beside the checksum, as S3 answers PutObject."""
    status, headers, body = _ORIGINAL_PUT_OBJECT_RESPONSE(self)
    if any(str(name).lower().startswith("x-amz-checksum-") for name in headers):
        headers.setdefault("x-amz-checksum-type", "FULL_OBJECT")
    return status, headers, body


_ORIGINAL_SEND_RESPONSE = S3Response._send_response.__func__  # type: ignore[attr-defined]


def _send_response(cls: type[S3Response], response: Any) -> Any:
    """Wraps the class method `S3Response._send_response` (every bucket and object answer).

    Restores: S3's own `x-amz-request-id` and `x-amz-id-2` headers in place of the generic
    `x-amzn-requestid`, which SDKs read as the request id and the extended request id (botocore's `HostId`,
    read only when `x-amzn-requestid` is absent; Step Functions' "Extended Request ID: …" in an
    `aws-sdk:s3` error's cause, as recorded on AWS); moto sent neither.
    """
    status, headers, body = _ORIGINAL_SEND_RESPONSE(cls, response)
    name = next((k for k in headers if k.lower() == "x-amzn-requestid"), None)
    if name is not None:
        request_id = str(headers.pop(name))
        headers.setdefault("x-amz-request-id", request_id)
        headers.setdefault("x-amz-id-2", base64.b64encode(hashlib.sha384(request_id.encode()).digest()).decode())
    return status, headers, body


register(
    [(S3Backend, "put_object", _put_object), (S3Response, "put_object", _put_object_response),
     (S3Response, "_send_response", classmethod(_send_response))],
    [Seam(S3Backend, "put_object", ("self", "bucket_name", "key_name", "value", "storage", "etag", "multipart",
                                    "encryption", "kms_key_id", "bucket_key_enabled", "lock_mode",
                                    "lock_legal_status", "lock_until", "checksum_value", "request_method",
                                    "disable_notification"), _put_object.__doc__ or "",
          proved_by="tests/sim/aws/test_s3_defaults.py::test_new_object_is_encrypted_with_sse_s3_by_default"),
     Seam(S3Response, "put_object", ("self",), _put_object_response.__doc__ or "",
          proved_by="tests/sim/aws/test_s3_defaults.py::test_single_part_upload_checksum_is_full_object"),
     Seam(S3Response, "_send_response", ("cls", "response"), _send_response.__doc__ or "",
          proved_by="tests/sim/aws/test_s3_defaults.py::test_s3_answers_carry_its_request_id_and_extended_request_id")],
)
