"""S3 event notification records, shaped as Amazon S3 sends them to Lambda.

Structure per the S3 user guide, "Event message structure" (eventVersion 2.1). Keys are URL-encoded
the way S3 does it (form encoding: a space becomes `+`, `/` stays), which is why handlers call
`urllib.parse.unquote_plus` on them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from sim import clock, context


def _next_sequence() -> int:
    """The simulator's next S3 sequence number (a per-simulator counter, so a replayed flight repeats it)."""
    ctx = context.current()
    counter = ctx.memo("s3-sequence", lambda: itertools.count(1))
    with ctx.lock:
        return next(counter)


@dataclass(frozen=True)
class S3Object:
    """What an S3 event says about the object that changed."""

    bucket: str
    region: str
    key: str
    size: int
    etag: str
    version_id: str | None = None


def sequencer() -> str:
    """A hex string that orders events for the same key, increasing as S3's does (16+ hex digits)."""
    return f"{clock.now_ms():012X}{_next_sequence() % 0x1000000:06X}"


def event_record(event_name: str, obj: S3Object, configuration_id: str, *, account_id: str) -> dict[str, Any]:
    """One record for `event_name` ("s3:ObjectCreated:Put" or "ObjectCreated:Put")."""
    name = event_name[3:] if event_name.startswith("s3:") else event_name
    event_time = datetime.fromtimestamp(clock.now(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    s3_object: dict[str, Any] = {
        "key": quote_plus(obj.key, safe="/"),
        "size": obj.size,
        "eTag": obj.etag.strip('"'),
        "sequencer": sequencer(),
    }
    if obj.version_id and obj.version_id != "null":
        s3_object["versionId"] = obj.version_id
    if name.startswith("ObjectRemoved"):
        s3_object = {k: v for k, v in s3_object.items() if k not in ("size", "eTag")}
    principal = f"AWS:{account_id}"
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": obj.region,
        "eventTime": event_time,
        "eventName": name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": f"{_next_sequence():016X}",
                             "x-amz-id-2": "stepbricks/local"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": obj.bucket, "ownerIdentity": {"principalId": principal},
                       "arn": f"arn:aws:s3:::{obj.bucket}"},
            "object": s3_object,
        },
    }


@dataclass
class S3Delivery:
    """One S3 → Lambda notification: which object, which function, and how each attempt ended."""

    bucket: str
    key: str
    event_name: str
    function_arn: str
    event: dict[str, Any]
    request_id: str = ""
    attempts: list[str] = field(default_factory=list)  # "success" | "error" | "timeout" per attempt
    done: bool = False

    @property
    def succeeded(self) -> bool:
        return bool(self.attempts) and self.attempts[-1] == "success"
