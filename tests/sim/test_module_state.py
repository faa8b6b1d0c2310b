"""No module of `sim/` keeps mutable state of its own beyond the exceptions docs/contracts.md lists and
explains: what belongs to one simulator lives on its context (`sim.context`) or its seam host."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (module path, name) -> the reason, as docs/contracts.md gives it ("Module-level mutable state left in sim/").
EXCEPTIONS = {
    ("sim/context.py", "_running"): "the fallback for threads nobody bound",
    ("sim/aws/moto_seams/core.py", "_hosts"): "moto is process-global: the simulators its patches report to",
    ("sim/aws/moto_seams/core.py", "_originals"): "moto is process-global: what the table replaced",
    ("sim/aws/moto_seams/core.py", "_installed"): "moto is process-global: whether the table is on it",
    ("sim/aws/moto_seams/core.py", "_deferred"): "moto is process-global: groups loaded on moto's import",
    ("sim/aws/moto_seams/glue.py", "_service"): "one Glue service and Spark worker per process",
    ("sim/aws/moto_seams/glue.py", "_settings"): "one Glue service and Spark worker per process",
    ("sim/aws/moto_seams/glue.py", "_listeners"): "wiring registered at import",
    ("sim/aws/moto_seams/glue.py", "_exit_hook"): "one Glue service and Spark worker per process",
    ("sim/aws/moto_seams/sfn_jsonata.py", "_compiled"): "a per-thread cache of a pure function",
    ("sim/aws/moto_seams/sfn_api.py", "_parsed"): "a bounded cache of a pure function (moto's grammar)",
    ("sim/aws/moto_seams/sfn_lambda.py", "_last_http"): "a per-thread hand-off inside one Lambda Task's evaluation",
    ("sim/aws/http_task.py", "_client"): "a connection pool configured by constants",
    **{("sim/compute/task_environment.py", name): "runs in a cluster worker subprocess"
       for name in ("_active", "_saved_env", "_path_users", "_inserted", "_modules_before", "_saved_argv", "_tokens")},
    ("sim/compute/context.py", "_bound"): "runs in a cluster worker subprocess",
    ("sim/compute/pool.py", "_shared"): "idle cluster workers outlive the simulator that started them",
    ("sim/compute/jvm.py", "_builder"): "one class-archive build per process, for every JVM it launches",
    ("sim/boto_clients.py", "_loader"): "botocore's parsed data files, read-only and the same for every simulator",
    ("sim/aws/moto_seams/s3_changes.py", "_stamps"): "a process-wide counter: stamps unique across moto's process-global stores",
    ("sim/boto_clients.py", "_threads"): "each thread's boto3 sessions by region and credentials, bounded",
    ("sim/compute/runtime.py", "_namespace"): "runs in a cluster worker subprocess",
    **{("sim/compute/dbruntime_shim/pyspark_stepbricks_worker.py", name): "runs in a PySpark UDF worker subprocess"
       for name in ("_launch_env", "_state")},
    ("sim/aws/lambda_runtime/bootstrap.py", "_proto_out"): "runs in a Lambda worker subprocess",
    ("sim/aws/lambda_runtime/bootstrap.py", "_last_duration"): "runs in a Lambda worker subprocess",
    ("sim/aws/glue/runtime/awsglue/_driver.py", "_staging"): "runs in a Glue worker subprocess",
}

_MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "deque", "count", "local", "WeakKeyDictionary",
                  "WeakValueDictionary", "iter"}


def _is_mutable(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in _MUTABLE_CALLS
    return False


def _module_state(path: Path) -> set[str]:
    """Lower-case module-level names bound to a mutable value, and names functions rebind with `global`
    (UPPER_CASE names are constants by the project's convention)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        for target in targets:
            if isinstance(target, ast.Name) and not target.id.isupper() and not target.id.startswith("__") \
                    and _is_mutable(value):
                found.add(target.id)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(node.names)
    return found


def test_module_level_mutable_state_in_sim_is_only_the_listed_exceptions():
    found = {(path.relative_to(ROOT).as_posix(), name)
             for path in sorted((ROOT / "sim").rglob("*.py")) for name in _module_state(path)}
    assert found - EXCEPTIONS.keys() == set(), "move it onto the simulator context, or list it with its reason"
    assert EXCEPTIONS.keys() - found == set(), "an exception no longer exists: drop it here and in the docs"
