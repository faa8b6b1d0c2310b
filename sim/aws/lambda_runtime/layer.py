"""The runtime layer: the only third-party packages the AWS Python runtime puts on `sys.path`.

On AWS, `/var/runtime` carries boto3 and botocore with their dependencies and nothing else. Here a
directory of symlinks into the project's environment plays that part, built once per state dir, so a
worker can import boto3 but not `requests`, `pandas` or anything else the zip does not bundle.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

# boto3, botocore and their run-time dependencies (dateutil needs six).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def build_runtime_layer(target: Path) -> Path:
    """Create (or reuse) `target` holding a symlink per runtime package; returns `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"the Lambda runtime layer needs {name!r}, which is not installed: pip install boto3")
        source = Path(spec.origin)
        if spec.submodule_search_locations:  # a package: link its directory
            source = source.parent
        link = target / source.name
        if link.is_symlink() and Path(os.readlink(link)) == source:
            continue
        tmp = target / f".{source.name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(source)
        os.replace(tmp, link)  # atomic: concurrent builders agree
    return target
