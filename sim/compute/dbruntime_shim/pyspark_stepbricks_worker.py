"""The Python UDF worker of a pooled cluster worker: PySpark's own, with each lease's environment applied.

A pooled worker serves one cluster after another, each with its own variables (the simulator's endpoints,
tokens, state paths: `Binding.env`). Handing them to Spark as `SparkContext.environment` made PySpark key a
new Python worker factory on them at every lease: a new daemon, new UDF workers, and pandas, pyarrow and
scikit-learn imported again by the first UDF of each cluster (3.5-4 s measured, against 0.5-0.7 s warm).
So the environment Spark sees stays the worker's launch one plus `STEPBRICKS_EXECUTOR_ENV`, the path of
a JSON file the worker rewrites at each lease and release (`sim.compute.lease`), and each task applies it
here before PySpark's `pyspark.worker.main` runs: the UDF sees the current cluster's variables exactly.
When the file changes (another cluster), the modules the last cluster's UDFs imported from outside the
interpreter's prefix (the project's, never a library's) are dropped, so an edit between two runs is
imported afresh, as `sim.compute.task_environment` does on the driver.

The name starts with `pyspark` because PySpark's daemon imports a custom worker module only then
(`pyspark/daemon.py`, `worker()`); Spark is pointed at it with `spark.python.worker.module`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any

from pyspark import worker as _pyspark_worker

ENV_FILE_VARIABLE = "STEPBRICKS_EXECUTOR_ENV"
# Project modules from source, as on the driver (sim/compute/worker.py): a .pyc written by one cluster's UDF
# would hide an edit made within the same second at the same size from the next one's.
sys.dont_write_bytecode = True
_launch_env = dict(os.environ)
_libraries = tuple(sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}))
_state: dict[str, Any] = {"text": None, "modules": set(sys.modules)}


def main(infile: IO[bytes], outfile: IO[bytes]) -> None:
    # A reused worker is called again as soon as its last task ends and then waits for the next one: the
    # lease to apply is the one in force when that task arrives, not when the last one ended.
    peek = getattr(infile, "peek", None)
    if peek is not None:
        peek(1)
    _apply_lease()
    _pyspark_worker.main(infile, outfile)


def _apply_lease() -> None:
    path = _launch_env.get(ENV_FILE_VARIABLE)
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as source:
            text = source.read()
    except OSError:
        return
    if text == _state["text"]:
        return
    if _state["text"] is not None:
        _forget_project_modules()
    _state["text"] = text
    env = {**_launch_env, **json.loads(text or "{}")}
    for key in set(os.environ) - set(env):
        del os.environ[key]
    os.environ.update(env)


def _forget_project_modules() -> None:
    for name, module in list(sys.modules.items()):
        if name in _state["modules"]:
            continue
        file = getattr(module, "__file__", None)
        if file and not os.path.realpath(file).startswith(_libraries):
            del sys.modules[name]
