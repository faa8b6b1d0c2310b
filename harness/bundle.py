"""Kept for `harness.deploy`: the job specs of the bundle (see `harness.bundles.legacy`)."""

from harness.bundles.errors import BundleError
from harness.bundles.legacy import load_jobs

__all__ = ["BundleError", "load_jobs"]
