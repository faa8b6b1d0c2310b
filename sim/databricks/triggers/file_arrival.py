"""`trigger.file_arrival` on a location in the simulated S3 (`s3://bucket/prefix/`).

As Databricks documents it ("Trigger jobs when new files arrive"): the location is checked about once a
minute; files already there when the trigger is set do not start a run; new files start one run, after
`wait_after_last_change_seconds` without further changes (a batch landing in pieces starts one run) and
no sooner than `min_time_between_triggers_seconds` after the previous trigger. A changed object (new
ETag) counts as new.

The virtual clock skips an idle minute in milliseconds, so a check is listed only when the bucket changed
since the last listing, if the simulator can tell (`changes`, its S3 served in this process): a listing
skipped is one the trigger has already.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import urlparse

CHECK_EVERY_S = 60.0

S3Changes = Callable[[str], Hashable | None]  # bucket -> change token (None: unknown, list it)


def split_url(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
        raise ValueError(f"file_arrival url {url!r} is not an s3:// location")
    return parsed.netloc, parsed.path.lstrip("/")


class FileArrival:
    def __init__(self, config: dict[str, Any], s3_client: Callable[[], Any], now: float, *,
                 changes: S3Changes | None = None) -> None:
        self.bucket, self.prefix = split_url(config["url"])
        self.wait_after = float(config.get("wait_after_last_change_seconds") or 0)
        self.min_between = float(config.get("min_time_between_triggers_seconds") or 0)
        self._s3 = s3_client
        self._changes = changes
        self._token = self._change_token()
        self._seen = self._list()
        self.listings = 1
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

    def _change_token(self) -> Hashable | None:
        return None if self._changes is None else self._changes(self.bucket)

    def check(self, now: float) -> tuple[bool, float]:
        """Whether to start a run now, and when to look again."""
        if now >= self._next_check:
            token = self._change_token()  # read before listing: a change during the listing shows next time
            if token is None or token != self._token:
                listing = self._list()
                self.listings += 1
                if any(self._seen.get(k) != etag for k, etag in listing.items()):
                    self._last_change = now
                self._seen, self._token = listing, token
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
