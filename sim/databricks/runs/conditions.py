"""The If/else condition task (`condition_task`) and the `depends_on[].outcome` its dependents follow.

Jobs API 2.2 / databricks-sdk `ConditionTask`: `op` is one of EQUAL_TO, NOT_EQUAL (string comparison:
"12.0" == "12" is false), GREATER_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN, LESS_THAN_OR_EQUAL (numeric:
"12.0" >= "12" is true); `left` and `right` may hold dynamic value references. The task runs on no
cluster; it ends SUCCESS with `condition_task.outcome` "true" or "false" in its task run
(`RunConditionTask.outcome`). A dependent with `outcome` set runs only on that outcome and is otherwise
EXCLUDED; excluded tasks count as successful, and a task whose dependencies are all excluded is
excluded too (docs.databricks.com/jobs/conditional-tasks). An operand that cannot be compared fails the
task (the message is a guess).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sim.databricks.runs.references import Scope, resolve

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "EQUAL_TO": operator.eq,
    "NOT_EQUAL": operator.ne,
    "GREATER_THAN": operator.gt,
    "GREATER_THAN_OR_EQUAL": operator.ge,
    "LESS_THAN": operator.lt,
    "LESS_THAN_OR_EQUAL": operator.le,
}
STRING_OPS = ("EQUAL_TO", "NOT_EQUAL")


class ConditionError(Exception):
    """The condition cannot be evaluated (an operand is not a number for a numeric operator)."""


def evaluate(spec: dict[str, Any], scope: Scope, resolved: dict[str, str] | None = None) -> str:
    """The outcome, "true" or "false", of a `condition_task` (raises ConditionError or
    references.UnresolvedReference). `resolved` receives the operands once resolved."""
    op = spec.get("op")
    if op not in OPS:
        raise ConditionError(f"Unsupported condition operator {op!r}.")
    left, right = resolve(spec.get("left", ""), scope), resolve(spec.get("right", ""), scope)
    if resolved is not None:
        resolved.update(left=left, right=right)
    if op in STRING_OPS:
        return "true" if OPS[op](left, right) else "false"
    try:
        numbers = float(left), float(right)
    except ValueError:
        raise ConditionError(
            f"Cannot evaluate the condition {left!r} {op} {right!r}: {op} compares numbers.") from None
    return "true" if OPS[op](*numbers) else "false"


def dependency_result(result_state: str, outcome: str | None, wanted: str | None) -> str:
    """What one dependency means for its dependent: a condition task that succeeded with another
    outcome than the dependency asks for counts as EXCLUDED."""
    if wanted is not None and result_state == "SUCCESS" and outcome is not None and outcome != wanted:
        return "EXCLUDED"
    return result_state
