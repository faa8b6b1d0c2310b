"""moto's Batch package runs its `__init__` only when Batch itself is used, not when Step Functions is.

moto's Step Functions interpreter imports every service integration it knows at start, Batch's among them,
for one enum (`moto.batch.utils.JobStatus`); importing that submodule runs `moto/batch/__init__.py`, which
imports Batch's models, which import EC2's, which load every instance type and offering JSON at import.
Measured in one process already holding moto's IAM, Lambda and S3: 0.73 CPU s and 87 MB of RSS, paid by
every process that serves a Step Functions request (each test worker, each `stepbricks run`), for a service
the reference pipelines never call.

So, before moto's Step Functions is first imported, `moto.batch` is registered as its own package with its
`__path__` but without running its `__init__`: its submodules (`moto.batch.utils`) import as usual, and the
first attribute read of the package itself (`batch_backends`, as `moto.backends.get_backend("batch")` reads
it for the first Batch request or a `batch:submitJob` task) runs the real `__init__` then. Nothing of moto's is
replaced; a process that imported `moto.batch` before keeps it as it is.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import Any

PACKAGE = "moto.batch"


def defer_batch_init() -> bool:
    """Register `moto.batch` with its `__init__` deferred (True), unless it is imported already (False)."""
    if PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    package = importlib.util.module_from_spec(spec)  # __path__, __spec__, __file__: not executed
    lock = threading.RLock()
    state = {"run": False}

    def __getattr__(name: str) -> Any:  # PEP 562: only for names the package does not hold yet
        with lock:
            if not state["run"]:
                state["run"] = True
                spec.loader.exec_module(package)  # type: ignore[union-attr]
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    parent, _, child = PACKAGE.rpartition(".")
    setattr(importlib.import_module(parent), child, package)  # as the import system binds a loaded submodule
    return True


def deferred() -> bool:
    """Whether `moto.batch`'s `__init__` has not run yet (what the specs check)."""
    package = sys.modules.get(PACKAGE)
    return package is not None and "batch_backends" not in package.__dict__
