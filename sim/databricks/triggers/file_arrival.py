"""`trigger.file_arrival` on a location in the simulated S3 (`s3://bucket/prefix/`).

As Databricks documents it ("Trigger jobs when new files arrive"): the location is checked about once a
minute; files already there when the trigger is set do not start a run; new files start one run, after
`wait_after_last_change_seconds` without further changes (a batch landing in pieces starts one run) and
no sooner than `min_time_between_triggers_seconds` after the previous trigger. A changed object (new
ETag) counts as new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

CHECK_EVERY_S = 60.0


def split_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
        raise ValueError(f"file_arrival url {url!r} is not an s3:// location")
    return parsed.netloc, parsed.path.lstrip("/")


class FileArrival:
    def __init__(self, config: dict[str, Any], s3_client: Callable[[], Any], now: float) -> None:
        self.bucket, self.prefix = split_url(config["url"])
        self.wait_after = float(config.get("wait_after_last_change_seconds") or 0)
        self.min_between = float(config.get("min_time_between_triggers_seconds") or 0)
        self._s3 = s3_client
        self._seen = self._list()
        self._last_change: float | None = None  # when new files were last seen (pending while set)
        self._last_fire: float | None = None
        self._next_check = now + CHECK_EVERY_S

    def _list(self) -> dict[str, str]:
        client = self._s3()
        seen: dict[str, str] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents") or []:
                if not obj["Key"].endswith("/"):
                    seen[obj["Key"]] = obj.get("ETag", "")
        return seen

    def check(self, now: float) -> tuple[bool, float]:
        """Whether to start a run now, and when to look again."""
        if now >= self._next_check:
            listing = self._list()
            if any(self._seen.get(k) != etag for k, etag in listing.items()):
                self._last_change = now
            self._seen = listing
            self._next_check = now + CHECK_EVERY_S
        fire = False
        if self._last_change is not None:
            quiet = now - self._last_change >= self.wait_after
            spaced = self._last_fire is None or now - self._last_fire >= self.min_between
            if quiet and spaced:
                fire, self._last_change, self._last_fire = True, None, now
        due = self._next_check
        if self._last_change is not None:
            ready = max(self._last_change + self.wait_after,
                        (self._last_fire + self.min_between) if self._last_fire is not None else 0.0)
            due = min(due, max(ready, now))
        return fire, due
