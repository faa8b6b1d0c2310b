"""Start the pipeline for each file an S3 event announces — once per object version.

Input: an S3 event notification ({"Records": [...]}).
Output: {executions: [{bucket, key, executionArn, alreadyStarted}], ignored: n}

S3 delivers events at least once; the execution name is derived from bucket, key and ETag, so a
duplicate delivery asks for the same name. Step Functions answers a Standard workflow's StartExecution
with the same name and input idempotently while it runs, and ExecutionAlreadyExists once it has
ended (StartExecution API reference); both mean "already started" here. A new upload of the same key
has a new ETag, hence a new execution. Keys arrive URL-encoded (spaces as "+"), and are decoded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError

from lambdas import _config, _events

log = logging.getLogger()
log.setLevel(logging.INFO)

MAX_NAME = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")  # the subset of StartExecution's name alphabet safe everywhere


def execution_name(bucket: str, key: str, etag: str) -> str:
    """A valid, deterministic execution name: a readable file stem plus a hash of bucket/key/etag."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag}".encode()).hexdigest()[:32]
    stem = _UNSAFE.sub("-", key.rsplit("/", 1)[-1]).strip("-")[: MAX_NAME - len(digest) - 1]
    return f"{stem}-{digest}" if stem else digest


def execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:aws:states:<region>:<account>:execution:<state machine name>:<name>."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def lambda_handler(event: Any, context: Any = None) -> dict[str, Any]:
    event = _events.mapping(event)
    state_machine_arn = _config.require("STATE_MACHINE_ARN")
    sfn = boto3.client("stepfunctions")
    started, ignored = [], 0
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            ignored += 1
            continue
        started.append(_start(sfn, state_machine_arn, record["s3"]))
    return {"executions": started, "ignored": ignored}


def _start(sfn: Any, state_machine_arn: str, s3: Mapping[str, Any]) -> dict[str, Any]:
    bucket = s3["bucket"]["name"]
    obj = s3["object"]
    key = urllib.parse.unquote_plus(obj["key"])
    etag = str(obj.get("eTag") or obj.get("sequencer") or "")
    prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    payload = {"bucket": bucket, "key": key, "etag": etag, "size": obj.get("size", 0), "prefix": prefix}
    name = execution_name(bucket, key, etag)
    try:
        arn = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))[
            "executionArn"
        ]
        already = False
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        arn, already = execution_arn(state_machine_arn, name), True
    log.info("s3://%s/%s -> %s%s", bucket, key, arn, " (already started)" if already else "")
    return {"bucket": bucket, "key": key, "executionArn": arn, "alreadyStarted": already}
