"""The manual approval between QA and prod (the seed's CodePipeline "Manual Approval" stage).

An approval is a record tied to the exact bundle it approves: the digest of every bundle file
(YAML and uploaded sources). Changing any file after approving needs a new approval.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.bundles.model import Bundle
from sim import clock


@dataclass(frozen=True)
class Approval:
    target: str
    digest: str
    approver: str
    approved_at_ms: int
    comment: str = ""


def bundle_digest(bundle: Bundle) -> str:
    """sha256 over the bundle's YAML files and every file it uploads, by path relative to the root."""
    h = hashlib.sha256()
    paths = sorted({*bundle.files, *(f.path for f in bundle.local_files())})
    for path in paths:
        h.update(path.relative_to(bundle.root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _path(state_root: Path, target: str) -> Path:
    return state_root / "approvals" / f"{target}.json"


def approve(bundle: Bundle, state_root: Path, *, approver: str | None = None, comment: str = "") -> Approval:
    record = Approval(target=bundle.target.name, digest=bundle_digest(bundle), approver=approver or getpass.getuser(),
                      approved_at_ms=clock.now_ms(), comment=comment)  # fmt: skip
    path = _path(state_root, record.target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=2))
    os.replace(tmp, path)
    return record


def find_approval(bundle: Bundle, state_root: Path) -> Approval | None:
    """The approval of this very bundle for its target, or None (missing, or for other file contents)."""
    path = _path(state_root, bundle.target.name)
    if not path.exists():
        return None
    record = Approval(**json.loads(path.read_text()))
    return record if record.digest == bundle_digest(bundle) else None
