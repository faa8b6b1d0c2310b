"""LambdaRuntime on its own (no moto): code extraction, the runtime layer, environment reuse and interpreters."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.aws.lambda_runtime import LambdaRuntime
from sim.aws.lambda_runtime.code import CodeStore
from sim.aws.lambda_runtime.interpreters import interpreter_for
from sim.aws.lambda_runtime.layer import RUNTIME_PACKAGES, build_runtime_layer
from sim.aws.lambda_runtime.runtime import MAX_IDLE_WORKERS
from tests.sim.aws.lambda_runtime.functions import NO_ENDPOINT, config, local_runtime, package


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LambdaRuntime]:
    with local_runtime(tmp_path, max_idle_workers=1) as rt:
        yield rt


def test_the_same_package_is_extracted_once_per_code_hash(tmp_path: Path):
    store = CodeStore(tmp_path)
    code = package("def handler(e, c):\n    return 1\n")
    sha = hashlib.sha256(code).hexdigest()
    first = store.task_root(sha, code)
    (first / "marker").write_text("kept")
    second = store.task_root(sha, b"not even a zip: never read again")
    assert first == second and (second / "marker").read_text() == "kept"
    assert (first / "app.py").exists()


def test_runtime_layer_links_boto3_and_its_dependencies_only(tmp_path: Path):
    layer = build_runtime_layer(tmp_path / "layer")
    assert sorted(p.name.removesuffix(".py") for p in layer.iterdir()) == sorted(RUNTIME_PACKAGES)
    assert build_runtime_layer(tmp_path / "layer") == layer  # idempotent


def test_least_recently_used_idle_environment_is_reclaimed_beyond_the_cap(runtime: LambdaRuntime):
    code_a, code_b = package("def handler(e, c):\n    return 'a'\n"), package("def handler(e, c):\n    return 'b'\n")
    a, b = config("fa", code_a), config("fb", code_b)
    assert runtime.invoke(a, lambda: code_a, b"{}").cold_start is True
    assert runtime.invoke(a, lambda: code_a, b"{}").cold_start is False
    assert runtime.invoke(b, lambda: code_b, b"{}").cold_start is True  # evicts fa's environment (cap 1)
    assert runtime.warm_workers("fa") == 0 and runtime.warm_workers("fb") == 1
    assert runtime.invoke(a, lambda: code_a, b"{}").cold_start is True


def test_a_burst_leaves_at_most_the_default_cap_of_idle_environments_behind(tmp_path: Path):
    """A burst starts one environment per invocation in flight; what stays warm after it is bounded (each is a
    ~50 MB interpreter: 16 left behind were a fifth of a 30-file load's peak memory)."""
    code = package("import time\ndef handler(e, c):\n    time.sleep(0.3)\n    return 'ok'\n")
    burst = config("burst", code)
    with local_runtime(tmp_path, capacity=MAX_IDLE_WORKERS + 3) as rt:  # a machine with room for the burst
        results: list = []
        calls = [threading.Thread(target=lambda: results.append(rt.invoke(burst, lambda: code, b"{}")))
                 for _ in range(MAX_IDLE_WORKERS + 3)]
        for call in calls:
            call.start()
        for call in calls:
            call.join()
        assert [r.payload for r in results] == [b'"ok"'] * len(calls)
        assert sum(r.cold_start for r in results) == len(calls)  # all at once: one environment each
        assert rt.warm_workers("burst") == MAX_IDLE_WORKERS


def test_a_crashing_worker_fails_with_runtime_exit_error_and_is_replaced(runtime: LambdaRuntime):
    code = package("import os\ndef handler(e, c):\n    if e.get('crash'):\n        os._exit(3)\n    return 'ok'\n")
    crashy = config("crashy", code)
    result = runtime.invoke(crashy, lambda: code, b'{"crash": true}')
    assert result.function_error == "Unhandled"
    body = json.loads(result.payload)
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 3")
    again = runtime.invoke(crashy, lambda: code, b"{}")
    assert (again.payload, again.cold_start) == (b'"ok"', True)


@pytest.mark.skipif(interpreter_for("python3.12")[1] != "3.12", reason="no Python 3.12 on this machine")
def test_function_runs_on_the_python_its_runtime_names(runtime: LambdaRuntime):
    # PEP 695 `type` statements are a SyntaxError before 3.12.
    code = package("import sys\ntype Rows = list[dict]\ndef handler(e, c):\n    return list(sys.version_info[:2])\n")
    result = runtime.invoke(config("py312", code, runtime="python3.12"), lambda: code, b"{}")
    assert json.loads(result.payload) == [3, 12]
    assert result.log[0].message.startswith("INIT_START Runtime Version: python:3.12")


def test_unknown_python_runtime_falls_back_to_this_interpreter():
    assert interpreter_for("python2.1") == (sys.executable, f"{sys.version_info[0]}.{sys.version_info[1]}")


def test_closing_the_runtime_kills_and_reaps_every_environment(tmp_path: Path):
    """All are told at once, then reaped (one by one, each kill waited ~10 ms for its process to die)."""
    codes = {name: package(f"def handler(e, c):\n    return {name!r}\n") for name in ("fa", "fb", "fc")}
    rt = LambdaRuntime(state_dir=tmp_path, base_env=NO_ENDPOINT, max_idle_workers=3)
    try:
        for name, code in codes.items():
            assert rt.invoke(config(name, code), lambda code=code: code, b"{}").cold_start is True
        processes = [worker.process for worker in rt._workers]
        assert len(processes) == 3 and all(p.poll() is None for p in processes)
    finally:
        rt.close()
    assert all(p.returncode is not None for p in processes)  # reaped: no zombie left behind
    assert all(p.stdout is None or p.stdout.closed for p in processes)
