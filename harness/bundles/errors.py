"""The one error type of `harness.bundles`: every message names the file, the key and the problem."""

from __future__ import annotations


class BundleError(ValueError):
    """A bundle is wrong or cannot be deployed; the message says where (file, key) and what to do."""

