"""Files that hold a secret and that another process polls for: whole or absent, readable only by this user.

`stepbricks up` publishes its endpoints (with the workspace token) this way, and a cluster publishes its
worker's advert (with an authkey): a reader that waits for the file to exist must never read it half-written,
which a plain open-truncate-write allows (a CI run read `up`'s endpoints file while it was still empty)."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write aside (mode 0600 from creation, never wider), then rename over `path`: atomic on one filesystem."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
