"""The README's `test_state` example runs as written (apart from the session simulator's module)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_test_state_example_passes_as_written(test_state):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    [block] = [b for b in blocks if "def test_" in b and "test_state" in b and "deployed_pipeline" not in b]
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)
    [test] = [v for k, v in namespace.items() if k.startswith("test_")]
    assert "assert " in block, "the README example must check something itself"
    test(test_state)  # its own asserts decide; an AssertionError fails this test
