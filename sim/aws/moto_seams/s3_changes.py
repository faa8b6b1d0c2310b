"""A bucket's change token: equal tokens mean its objects (keys and ETags) are as they were.

A Databricks file-arrival trigger lists its S3 location every virtual minute, and the virtual clock skips
idle minutes in milliseconds, so a simulator with an armed trigger listed the bucket (a ListObjectsV2 round
trip, client and server in one process) dozens of times a second while nothing else ran. With the
token the trigger lists only when the bucket changed since its last listing: the listing it skips is the
one it has.

Every change to a bucket's objects goes through its key store (`FakeBucket.keys`, moto's
`_VersionedKeyStore`): PutObject, CopyObject and CompleteMultipartUpload set a key's versions (`setlist`),
DeleteObject adds a delete marker (`__setitem__`) or drops the key (`pop`). Each of the three stamps the
store with a number drawn from one process-wide counter, so a store's stamp never repeats; a bucket deleted
and created again has a new store.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any

from moto.s3.models import s3_backends
from moto.s3.utils import _VersionedKeyStore

from sim.aws.moto_seams.core import Seam, register

__all__ = ["token"]

_STAMP = "_stepbricks_changed"
_stamps = itertools.count(1)  # next() is atomic under the GIL: two writers never share a stamp
_ORIGINAL_SET = _VersionedKeyStore.__setitem__
_ORIGINAL_SETLIST = _VersionedKeyStore.setlist
_ORIGINAL_POP = _VersionedKeyStore.pop


def token(account_id: str, bucket: str) -> Hashable | None:
    """The bucket's change token in `account_id`, or None when the bucket is not there (list it: the
    listing's own error is the answer)."""
    found = s3_backends[account_id]["aws"].buckets.get(bucket)
    if found is None:
        return None
    return id(found.keys), found.keys.__dict__.get(_STAMP, 0)


def _stamp(store: _VersionedKeyStore) -> None:
    store.__dict__[_STAMP] = next(_stamps)


def _setitem(self: _VersionedKeyStore, key: str, value: Any) -> Any:
    """Wraps `_VersionedKeyStore.__setitem__` (a version added to a key: a delete marker).

    Adds: the store's change stamp (`token`), set after the change."""
    result = _ORIGINAL_SET(self, key, value)
    _stamp(self)
    return result


def _setlist(self: _VersionedKeyStore, key: Any, list_: Any) -> Any:
    """Wraps `_VersionedKeyStore.setlist` (a key's versions replaced: every put, copy and upload).

    Adds: the store's change stamp (`token`), set after the change."""
    result = _ORIGINAL_SETLIST(self, key, list_)
    _stamp(self)
    return result


def _pop(self: _VersionedKeyStore, key: str) -> None:
    """Wraps `_VersionedKeyStore.pop` (a key removed with all its versions).

    Adds: the store's change stamp (`token`), set after the change."""
    _ORIGINAL_POP(self, key)
    _stamp(self)


_PROOF = "tests/sim/aws/test_s3_changes.py::"

register(
    [(_VersionedKeyStore, "__setitem__", _setitem), (_VersionedKeyStore, "setlist", _setlist),
     (_VersionedKeyStore, "pop", _pop)],
    [Seam(_VersionedKeyStore, "__setitem__", ("self", "key", "value"), _setitem.__doc__ or "",
          proved_by=_PROOF + "test_a_delete_in_a_versioned_bucket_changes_the_token"),
     Seam(_VersionedKeyStore, "setlist", ("self", "key", "list_"), _setlist.__doc__ or "",
          proved_by=_PROOF + "test_a_put_or_copy_changes_the_token_and_reads_do_not"),
     Seam(_VersionedKeyStore, "pop", ("self", "key"), _pop.__doc__ or "",
          proved_by=_PROOF + "test_a_delete_changes_the_token")],
)
