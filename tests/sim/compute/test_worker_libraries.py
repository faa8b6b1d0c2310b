"""When a cluster worker imports the ML runtime's libraries (sim/compute/worker.py `_install_libraries`).

`stepbricks up`'s cluster (`warm_engine`) imports MLflow and scikit-learn while its JVM starts, a flight's
(`warm_libraries`) beside its first task, so the first training run does not pay it; any other cluster
defers MLflow until a task imports it (1.8 s of CPU a cluster that never trains would spend on nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_PROBE = """
import json, sys
from sim.compute import worker
from sim.compute.protocol import WorkerConfig
config = WorkerConfig("c", {}, "/tmp", **json.loads(sys.argv[1]))
worker._install_libraries(config)  # beside the JVM's start
beside_first_task = worker._import_while_serving(config)  # once the session is ready
if beside_first_task is not None:
    beside_first_task.join()
print(json.dumps({name: name in sys.modules for name in ("mlflow", "sklearn.ensemble", "sklearn.metrics")}))
"""


def _imported_after_install(**config: bool) -> dict[str, bool]:
    """A fresh interpreter: what `_install_libraries` left imported (this process has imported it all)."""
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(config)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("flag", ["warm_libraries", "warm_engine"])
def test_a_cluster_that_will_train_imports_mlflow_and_scikit_learn_before_its_first_training(flag):
    assert _imported_after_install(**{flag: True}) == {"mlflow": True, "sklearn.ensemble": True,
                                                       "sklearn.metrics": True}


def test_any_other_cluster_leaves_them_to_the_first_task_that_imports_them():
    assert _imported_after_install() == {"mlflow": False, "sklearn.ensemble": False, "sklearn.metrics": False}
