"""Step Functions language fidelity: JSONata, variables, definition validation, known divergences.

Patches moto's ASL interpreter (`moto/stepfunctions/parser/...`) where it parts from AWS; registered
with `core.register` at import.
"""

from __future__ import annotations

from sim.aws.moto_seams.core import register

register([], [])
