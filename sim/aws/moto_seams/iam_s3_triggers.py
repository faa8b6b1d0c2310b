"""S3 → Lambda triggers under IAM enforcement: S3 invokes a function only as the function's policy allows.

On AWS, S3 calls `lambda:InvokeFunction` as the service principal `s3.amazonaws.com`, with the bucket as
`aws:SourceArn` and its owner as `aws:SourceAccount`, so the function's resource-based policy
(`AddPermission`) must allow it. PutBucketNotificationConfiguration checks that first and refuses a
destination S3 may not invoke: 400 InvalidArgument "Unable to validate the following destination
configurations" (recorded on AWS in LocalStack's tests/aws/services/s3/test_s3_notifications_lambda.snapshot.json:
`ArgumentValue1: "Not authorized to invoke function [<arn>]"`; moto does not serialise the ArgumentName1 /
ArgumentValue1 members, an S3 error shape it does not model). A permission removed afterwards stops the
deliveries (sim/aws/moto_seams/core.py `_s3_invoke_lambda` asks `s3_may_invoke`).

Registered with `core.register` at import.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend
from moto.s3.exceptions import S3ClientError
from moto.s3.models import S3Backend

from sim.aws.iam_policies import Caller, Decision, evaluate
from sim.aws.moto_seams import core
from sim.aws.moto_seams.core import Seam, register

__all__ = ["s3_may_invoke"]

_ORIGINAL_PUT_NOTIFICATION = S3Backend.put_bucket_notification_configuration
S3_PRINCIPAL = "s3.amazonaws.com"


def s3_may_invoke(function_arn: str, bucket: str, bucket_account: str) -> bool:
    """Whether the function's policy lets S3 invoke it for events of `bucket`."""
    parts = function_arn.split(":")
    try:
        function = lambda_backend(parts[4], parts[3]).get_function(function_arn)
    except Exception:
        return False
    statements = function.policy.statements
    if not statements:
        return False
    policy = {"Version": "2012-10-17", "Statement": statements}
    context = {"aws:SourceArn": f"arn:aws:s3:::{bucket}", "aws:SourceAccount": bucket_account}
    return evaluate(policy, "lambda:InvokeFunction", function.function_arn, context,
                    Caller(service=S3_PRINCIPAL)) is Decision.ALLOW


class _DestinationsNotValidated(S3ClientError):
    def __init__(self) -> None:
        super().__init__("InvalidArgument", "Unable to validate the following destination configurations")


def _put_notification(self: S3Backend, bucket_name: str, notification_config: dict[str, Any]) -> None:
    """Wraps `S3Backend.put_bucket_notification_configuration`.

    Restores: with IAM enforced, a Lambda destination S3 may not invoke (no function, or no `AddPermission`
    for s3.amazonaws.com matching the bucket as aws:SourceArn) is refused with AWS's InvalidArgument
    "Unable to validate the following destination configurations"; moto accepted any function ARN."""
    host = core.current_host()
    if host is not None and host.enforce_iam:
        account = self.get_bucket(bucket_name).account_id
        for destination in notification_config.get("CloudFunctionConfiguration") or []:
            if not s3_may_invoke(str(destination.get("CloudFunction", "")), bucket_name, account):
                raise _DestinationsNotValidated()
    _ORIGINAL_PUT_NOTIFICATION(self, bucket_name, notification_config)


register(
    [(S3Backend, "put_bucket_notification_configuration", _put_notification)],
    [Seam(S3Backend, "put_bucket_notification_configuration", ("self", "bucket_name", "notification_config"),
          _put_notification.__doc__ or "",
          proved_by="tests/sim/aws/test_iam_enforcement.py::"
                    "test_an_s3_trigger_needs_the_functions_permission_for_the_bucket")],
)

