"""The README's pytest example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.e2e


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_pytest_example_passes_against_the_session_simulator(stepbricks, deployed_pipeline, tmp_path):
    (block,) = [b for b in _python_blocks() if "def test_" in b]
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    tests = [v for k, v in namespace.items() if k.startswith("test_")]
    assert len(tests) == 1
    tests[0](stepbricks, deployed_pipeline, tmp_path)
