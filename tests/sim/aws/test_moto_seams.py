"""Fails loudly when a moto upgrade moves or reshapes an internal that sim/aws patches or reads."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import moto
import pytest

from sim.aws import AwsSimulator, moto_seams
from sim.aws.moto_seams import table

ROOT = Path(__file__).resolve().parents[3]

moto_seams.load_all()  # the deferred Step Functions rows too: every row is checked against moto


def test_moto_is_the_pinned_version():
    assert moto.__version__ == moto_seams.MOTO_VERSION, (
        f"sim/aws/moto_seams/ is written against moto {moto_seams.MOTO_VERSION}; re-check every seam"
    )


@pytest.mark.parametrize("seam", moto_seams.SEAMS, ids=lambda s: f"{getattr(s.owner, '__name__', s.owner)}.{s.name}")
def test_patched_moto_attribute_exists_with_the_expected_signature(seam):
    if seam.adds:
        assert not moto_seams.core.shipped_by_moto(seam), (
            f"moto now ships {seam.target} itself: compare it with the row that adds it ({seam.proved_by})"
        )
        return
    assert hasattr(seam.owner, seam.name), f"moto no longer has {seam.owner}.{seam.name}"
    assert moto_seams.signature_of(seam) == seam.parameters, (
        f"moto changed the signature of {seam.owner}.{seam.name}: re-check what the seam restores: {seam.restores}"
    )


def test_every_seam_says_which_aws_behaviour_it_restores():
    assert all(seam.restores.strip() for seam in moto_seams.SEAMS)


def test_every_change_to_moto_is_a_row_of_the_table():
    rows = {(id(seam.owner), seam.name) for seam in moto_seams.SEAMS}
    unlisted = [f"{owner}.{name}" for owner, name, _ in moto_seams.core.patches() if (id(owner), name) not in rows]
    assert unlisted == []


def _tests_in(path: Path) -> set[str]:
    """The node ids (without parameters) of the test functions in one test file, classes included."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            found |= {f"{node.name}::{item.name}" for item in node.body
                      if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test")}
    return found


@pytest.mark.parametrize("seam", moto_seams.SEAMS, ids=lambda s: f"{getattr(s.owner, '__name__', s.owner)}.{s.name}")
def test_every_row_names_a_test_that_exists(seam):
    """`proved_by` is the pytest node id of a test that fails when the row is removed (chosen by disabling the
    row and running it, for the rows docs/contracts.md says were checked so); here: that the test exists."""
    path, _, name = seam.proved_by.partition("::")
    assert path.startswith("tests/") and name, f"{seam.target}: proved_by must be a node id, not {seam.proved_by!r}"
    assert (ROOT / path).is_file(), f"{seam.target}: {path} does not exist"
    assert name.split("[")[0] in _tests_in(ROOT / path), f"{seam.target}: no test {name} in {path}"


def test_the_seam_table_in_the_docs_is_the_table():
    document = (ROOT / "docs" / "contracts.md").read_text()
    assert table.rewrite(document) == document, (
        "docs/contracts.md's seam table is out of date: python -m sim.aws.moto_seams.table docs/contracts.md"
    )


def test_lambda_function_still_carries_the_attributes_the_runtime_reads(aws: AwsSimulator, lambda_client,
                                                                        make_function):
    from moto.awslambda.utils import get_backend

    name = make_function("def handler(event, context):\n    return 1\n")
    function = get_backend("123456789012", "us-east-1").get_function(name)
    missing = [a for a in moto_seams.FUNCTION_ATTRIBUTES if not hasattr(function, a)]
    assert missing == []
    config = moto_seams.function_config(function)
    assert (config.name, config.version, config.handler, config.runtime) == (name, "$LATEST", "app.handler",
                                                                              "python3.11")
    assert len(config.code_sha256) == 64


def test_patches_are_active_while_a_simulator_runs(aws: AwsSimulator):
    from moto.awslambda.models import LambdaFunction

    assert moto_seams.running_hosts() >= 1
    assert LambdaFunction.invoke is moto_seams.core._lambda_invoke


IMPORT_EVERYTHING = r"""
import importlib, inspect, json, pkgutil, sys
rows = json.loads(sys.argv[1])
owners = []
for module_name, qualname, attr in rows:
    owner = importlib.import_module(module_name)
    for part in filter(None, qualname.split(".")):
        owner = getattr(owner, part)
    owners.append((owner, attr, inspect.getattr_static(owner, attr, None)))
import atexit
registered = []
atexit.register = lambda fn, *a, **k: registered.append(getattr(fn, "__qualname__", repr(fn))) or fn
import sim
skip = ("sim.compute.dbruntime_shim", "sim.aws.glue.runtime", "sim.compute.worker")
for info in pkgutil.walk_packages(sim.__path__, "sim."):
    if not info.name.startswith(skip):
        importlib.import_module(info.name)
changed = [f"{o}.{a}" for o, a, before in owners if inspect.getattr_static(o, a, None) is not before]
print(json.dumps({"changed": changed, "atexit": registered}))
"""


def _row_address(owner, name: str) -> list[str]:
    if inspect.ismodule(owner):
        return [owner.__name__, "", name]
    return [owner.__module__, owner.__qualname__, name]


def test_importing_every_sim_module_changes_nothing_in_moto_and_registers_no_exit_hook():
    """Seams are installed by a starting simulator, never by an import (issue 16's seam table)."""
    rows = [_row_address(owner, name) for owner, name, _ in moto_seams.core.patches()]
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING, json.dumps(rows)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"changed": [], "atexit": []}
    assert len(rows) >= 50  # the whole table was checked, not an empty list


LEAK_CHECK = r"""
import inspect, json, sys, tempfile
from pathlib import Path
from sim.aws import AwsSimulator, moto_seams
from sim.aws.moto_seams import table
moto_seams.load_all()
rows = moto_seams.core.patches()
before = [inspect.getattr_static(o, n, None) for o, n, _ in rows]
with AwsSimulator.start(state_dir=Path(tempfile.mkdtemp())):
    during = [inspect.getattr_static(o, n, None) is r for o, n, r in rows]
after = [inspect.getattr_static(o, n, None) for o, n, _ in rows]
clean = moto_seams.core.left_installed()
owner, name, replacement = rows[0]
setattr(owner, name, replacement)  # a seam left behind, as a broken stop would leave it
print(json.dumps({"rows": len(rows), "all_installed_while_running": all(during),
                  "restored": [f"{o}.{n}" for (o, n, _), b, a in zip(rows, before, after) if a is not b],
                  "clean": clean, "leak": moto_seams.core.left_installed(), "planted": f"{owner.__name__}.{name}"}))
"""


def test_the_table_is_installed_whole_removed_whole_and_a_seam_left_behind_is_named():
    """In a process of its own: the session's simulators must not be running for the leak check."""
    done = subprocess.run([sys.executable, "-c", LEAK_CHECK], cwd=ROOT, capture_output=True, text=True,
                          timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["all_installed_while_running"] is True
    assert result["restored"] == [] and result["clean"] == []
    assert result["leak"] == [result["planted"]]


DEFERRED_CHECK = r"""
import inspect, json, sys, tempfile
from pathlib import Path
from sim.aws import AwsSimulator, moto_seams
from sim.aws.moto_seams import table
with AwsSimulator.start(state_dir=Path(tempfile.mkdtemp())) as aws:
    idle = {"stepfunctions_imported": "moto.stepfunctions" in sys.modules,
            "rows": [f"{getattr(o, '__name__', o)}.{n}" for o, n, _ in moto_seams.core.patches()]}
    aws.client("s3").list_buckets()
    after_s3 = "moto.stepfunctions" in sys.modules
    aws.client("stepfunctions").list_state_machines()
    rows = moto_seams.core.patches()
    installed = [inspect.getattr_static(o, n, None) is r for o, n, r in rows]
print(json.dumps({"idle": idle, "after_s3": after_s3, "rows": len(rows), "installed": all(installed),
                  "sfn_rows": sum(o.__module__.startswith("moto.stepfunctions") if not inspect.ismodule(o)
                                  else o.__name__.startswith("moto.stepfunctions") for o, _, _ in rows),
                  "leak": moto_seams.core.left_installed()}))
"""


def test_step_functions_rows_are_installed_when_moto_first_imports_step_functions():
    """The deferred group: a simulator that is never asked for Step Functions never imports moto's
    interpreter (0.75 s of start-up); the first Step Functions request loads and installs its rows
    before it is served, and stopping removes them with the rest."""
    done = subprocess.run([sys.executable, "-c", DEFERRED_CHECK], cwd=ROOT, capture_output=True, text=True,
                          timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["idle"]["stepfunctions_imported"] is False
    assert not any("stepfunctions" in row or "Execution" in row for row in result["idle"]["rows"])
    assert result["after_s3"] is False
    assert result["installed"] is True
    assert result["sfn_rows"] >= 30
    assert result["rows"] == len(moto_seams.core.patches())  # the whole table, as this process has it
    assert result["leak"] == []
