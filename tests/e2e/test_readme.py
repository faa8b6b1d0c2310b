"""The README's pytest example runs as written."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.e2e


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_pytest_examples_pass_as_written(request, tmp_path, stepbricks, deployed_pipeline):
    """The README's flight example runs with the fixtures it names (the session simulator and the deployed
    pipeline); its `test_state` example runs in tests/asl/test_readme_state_example.py, away from the
    session simulator's module.

    `stepbricks` and `deployed_pipeline` are named here, not only fetched by name below: the schedule runs
    tests on the session simulator after the `mock_aws` tests (tests/schedule.py), and it sees only the
    fixtures a test declares. Fetched alone, they started the simulator early on one worker, and a later
    `mock_aws` reset moto's backends under its deployment (Topic does not exist, Function not found)."""
    examples = [b for b in _python_blocks() if "def test_" in b and "deployed_pipeline" in b]
    assert len(examples) == 1
    for block in examples:
        namespace: dict = {}
        exec(compile(block, str(README), "exec"), namespace)
        [test] = [v for k, v in namespace.items() if k.startswith("test_")]
        names = inspect.signature(test).parameters
        test(**{name: tmp_path if name == "tmp_path" else request.getfixturevalue(name) for name in names})
