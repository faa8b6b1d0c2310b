"""State machines from the AWS Step Functions developer guide, with the results the guide documents.

Each tests/sim/aws/sfn/golden/*.json holds `source` (the guide page), `definition`, `input`, and the
expected `status` with `output` or `error`/`cause`, and for some the `history` (event types in order).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("case_file", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_guide_example_finishes_as_the_guide_documents(case_file: Path, run_machine):
    case = json.loads(case_file.read_text())
    run = run_machine(case["definition"], case["input"])
    assert run.status == case["status"], run.description
    if "output" in case:
        assert run.output == case["output"]
    if "error" in case:
        assert (run.description.get("error"), run.description.get("cause")) == (case["error"], case["cause"])
    if "history" in case:
        assert run.types() == case["history"]
