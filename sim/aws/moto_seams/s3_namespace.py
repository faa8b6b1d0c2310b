"""S3's bucket namespace per simulator, not per process.

AWS's bucket names are global, and moto keeps them in one process-wide dict (`s3_backends.bucket_accounts`,
name → (partition, account)): CreateBucket of a name any account holds is BucketAlreadyExists, and a request
for a bucket of another account is served from that account. Simulators side by side in one process are
separate AWS worlds, each in an account of its own: with moto's dict, the session simulator's deploy of
`stepbricks-raw` failed (BucketAlreadyExists) while a test's simulator held the name, or wrote into that
simulator's bucket, which vanished at its stop. Here each simulator's requests see the names of its own
account only; a request no simulator serves (a plain moto server, `mock_aws`) sees them all, as in moto.
"""

from __future__ import annotations

from typing import Any

from moto.s3 import models as s3_models
from moto.s3.models import s3_backends

from sim.aws.moto_seams import core

_Entry = tuple[str, str]  # (partition, account)


class BucketNamespace(dict):  # type: ignore[type-arg]
    """moto's `bucket_accounts`, each name kept per account and looked up in the serving simulator's."""

    def __init__(self, entries: dict[str, _Entry]) -> None:
        super().__init__()
        self._owners: dict[str, dict[str, _Entry]] = {}
        for name, entry in entries.items():
            self[name] = entry

    @staticmethod
    def _scope() -> str | None:
        host = core._serving.get()
        return None if host is None else host.account_id

    def _visible(self, name: object) -> _Entry | None:
        owners = self._owners.get(name, {})  # type: ignore[arg-type]
        scope = self._scope()
        if scope is None:
            return next(iter(owners.values()), None)
        return owners.get(scope)

    def __setitem__(self, name: str, entry: _Entry) -> None:
        self._owners.setdefault(name, {})[entry[1]] = entry

    def __getitem__(self, name: str) -> _Entry:
        entry = self._visible(name)
        if entry is None:
            raise KeyError(name)
        return entry

    def __contains__(self, name: object) -> bool:
        return self._visible(name) is not None

    def get(self, name: str, default: Any = None) -> Any:
        entry = self._visible(name)
        return default if entry is None else entry

    def keys(self) -> list[str]:  # type: ignore[override]
        return [name for name in self._owners if self._visible(name) is not None]

    def __iter__(self) -> Any:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def pop(self, name: str, *default: Any) -> Any:
        entry = self._visible(name)
        if entry is None:
            if default:
                return default[0]
            raise KeyError(name)
        return self.forget(name, entry[1])

    def forget(self, name: str, account_id: str) -> _Entry | None:
        """Drop `account_id`'s bucket `name` whoever asks (a simulator's stop resets its own account)."""
        owners = self._owners.get(name, {})
        entry = owners.pop(account_id, None)
        if not owners:
            self._owners.pop(name, None)
        return entry

    def clear(self) -> None:
        self._owners.clear()


def install() -> BucketNamespace:
    """Put the per-simulator namespace in place of moto's dict (once; moto's own entries kept)."""
    if not isinstance(s3_backends.bucket_accounts, BucketNamespace):
        s3_backends.bucket_accounts = BucketNamespace(dict(s3_backends.bucket_accounts))
    return s3_backends.bucket_accounts


def forget(name: str, account_id: str) -> None:
    """Drop one account's bucket name (a simulator stopping beside others resets its own account only)."""
    install().forget(name, account_id)


def clear() -> None:
    """Forget every name: moto's `/moto-api/reset` pops only the names of the account it ran in."""
    install().clear()


core.register([], [core.Seam(
    s3_models, "s3_backends", (),
    "its `bucket_accounts` (one bucket namespace per process) is replaced by `BucketNamespace` when the first "
    "simulator starts: each simulator's requests see only its own account's bucket names, as separate AWS worlds",
    proved_by="tests/sim/aws/test_aws_simulator.py::test_simulators_side_by_side_each_have_their_own_bucket_namespace")])
