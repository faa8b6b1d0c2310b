"""Dynamic value references (`{{job.run_id}}`, `{{tasks.t.values.k}}`, ...): checked when a job is saved,
resolved when a task runs.

The rules follow "What is a dynamic value reference?" (docs.databricks.com/jobs/dynamic-value-references):
- a reference is `{{ name }}`; identifiers with other characters than letters, digits and `_` are
  quoted in backticks (`{{job.parameters.`my-param`}}`);
- a reference outside the known namespaces (`job`, `task`, `tasks`, `input` inside a For each task,
  the deprecated single names) and a syntax error (a missing brace) stay literal text;
- an invalid reference *in* a known namespace (`{{job.naem}}`) is refused when the job is saved;
- `{{tasks.<t>.result_state}}` is the lower-case result (`success`, `failed`, `excluded`, ...), a task
  value is its JSON text (booleans `true`/`false`, strings as they are).
A reference that is well formed but has no value when the task runs (a task value never set, a job
parameter the job does not define, `{{input}}` outside a For each task) fails the task: messages
marked (guess) were not confirmed against a workspace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sim.databricks.runs.models import Run, TaskRun

REFERENCE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_SEGMENT = re.compile(r"`([^`]*)`|([^.`]+)")
KNOWN_NAMESPACES = ("job", "task", "tasks", "input")
# The deprecated single-name references (still resolved; "Deprecated value references" in the docs).
LEGACY = ("job_id", "run_id", "parent_run_id", "task_key", "task_retry_count", "start_date", "start_time")
START_TIME_FIELDS = ("iso_date", "iso_datetime", "is_weekday", "iso_weekday", "year", "month", "day", "hour",
                     "minute", "second", "timestamp_ms")
JOB_FIELDS = ("id", "name", "run_id", "repair_count", "trigger")
TASK_FIELDS = ("name", "run_id", "notebook_path", "execution_count")
TASKS_FIELDS = ("run_id", "result_state", "error_code", "execution_count", "notebook_path")
_ERROR_CODES = {"FAILED": "RunExecutionError", "TIMEDOUT": "RunExecutionError", "CANCELED": "Canceled",
                "UPSTREAM_FAILED": "UpstreamFailed", "UPSTREAM_CANCELED": "UpstreamCanceled"}
_NO_INPUT = object()


class InvalidReference(ValueError):
    """A reference in a known namespace that can never resolve (refused when the job is saved)."""


class UnresolvedReference(Exception):
    """A well-formed reference with no value when the task runs: the task fails with this message."""


def split(name: str) -> list[str] | None:
    """`job.parameters.`a-b`` → ["job", "parameters", "a-b"]; None when it is not a dotted name."""
    parts: list[str] = []
    pos = 0
    while pos < len(name):
        match = _SEGMENT.match(name, pos)
        if match is None:
            return None
        parts.append(match.group(1) if match.group(1) is not None else match.group(2).strip())
        pos = match.end()
        if pos < len(name):
            if name[pos] != ".":
                return None
            pos += 1
    return parts or None


def references(text: str) -> Iterator[tuple[str, list[str]]]:
    """Every `{{...}}` in `text` that belongs to a known namespace: (its text, its parts)."""
    for match in REFERENCE.finditer(text):
        parts = split(match.group(1))
        if parts and (parts[0] in KNOWN_NAMESPACES or (len(parts) == 1 and parts[0] in LEGACY)):
            yield match.group(0), parts


# --- saving a job ----------------------------------------------------------------------------------
def check(text: str, *, task_keys: set[str]) -> None:
    """Refuse invalid references of known namespaces in a job setting (InvalidReference)."""
    for raw, parts in references(text):
        if not _well_formed(parts, task_keys):
            raise InvalidReference(f"Invalid dynamic value reference {raw}.")  # (guess) wording


def _well_formed(parts: list[str], task_keys: set[str]) -> bool:
    head, rest = parts[0], parts[1:]
    if len(parts) == 1:
        return head in LEGACY or head == "input"
    if head == "input":
        return True  # {{input.field}}: any field of the item
    if head == "job":
        if rest[0] == "parameters":
            return len(rest) == 2
        if rest[0] == "start_time":
            return len(rest) == 2 and rest[1] in START_TIME_FIELDS
        if rest[0] == "trigger":
            return rest[1:] == ["type"]
        return len(rest) == 1 and rest[0] in JOB_FIELDS
    if head == "task":
        return len(rest) == 1 and rest[0] in TASK_FIELDS
    # tasks.<key>.<field> or tasks.<key>.values.<name>
    if len(rest) < 2 or rest[0] not in task_keys:
        return False
    return (len(rest) == 2 and rest[1] in TASKS_FIELDS) or (len(rest) == 3 and rest[1] == "values")


def task_strings(task: dict[str, Any]) -> Iterator[str]:
    """The settings of a task where references are resolved (its parameters and control-flow operands)."""
    notebook = task.get("notebook_task") or {}
    yield from (str(v) for v in (notebook.get("base_parameters") or {}).values())
    yield from (str(v) for v in (task.get("spark_python_task") or {}).get("parameters") or [])
    wheel = task.get("python_wheel_task") or {}
    yield from (str(v) for v in wheel.get("parameters") or [])
    yield from (str(v) for v in (wheel.get("named_parameters") or {}).values())
    condition = task.get("condition_task") or {}
    yield from (str(condition[k]) for k in ("left", "right") if k in condition)
    for_each = task.get("for_each_task") or {}
    if isinstance(for_each.get("inputs"), str):
        yield for_each["inputs"]
    if for_each.get("task"):
        yield from task_strings(for_each["task"])
    yield from (str(v) for v in ((task.get("run_job_task") or {}).get("job_parameters") or {}).values())


def check_job(tasks: list[dict[str, Any]], parameters: list[dict[str, Any]] | None) -> None:
    """The references of a job's tasks and parameter defaults are well formed (raises InvalidReference)."""
    keys = {t.get("task_key") for t in tasks if t.get("task_key")}
    for task in tasks:
        for text in task_strings(task):
            check(text, task_keys=keys)
    for param in parameters or []:
        check(str(param.get("default", "")), task_keys=keys)


# --- running a task --------------------------------------------------------------------------------
@dataclass
class Scope:
    """What references can see when one task runs."""

    run: Run
    task_run: TaskRun | None = None
    # dbutils.jobs.taskValues set by finished tasks of the run, by task key
    task_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    item: Any = _NO_INPUT  # the current item of a For each task
    in_parameter: bool = False  # resolving a job parameter's default: no {{job.parameters.*}} there

    def with_item(self, item: Any) -> Scope:
        return Scope(self.run, self.task_run, self.task_values, item)


def resolve(text: Any, scope: Scope) -> str:
    """`text` with every reference of a known namespace replaced (raises UnresolvedReference)."""

    def value(match: re.Match[str]) -> str:
        parts = split(match.group(1))
        if not parts or not (parts[0] in KNOWN_NAMESPACES or (len(parts) == 1 and parts[0] in LEGACY)):
            return match.group(0)  # not ours: literal, as a workspace leaves it
        return _lookup(parts, match.group(0), scope)

    return REFERENCE.sub(value, str(text))


def job_parameter_values(run: Run, scope: Scope | None = None) -> dict[str, str]:
    """The run's job parameters (run-now's values over the defaults); references in them resolved."""
    values = {p["name"]: str(p.get("value", p.get("default", ""))) for p in run.job_parameters}
    if scope is None:
        return values
    plain = Scope(run, scope.task_run, scope.task_values, in_parameter=True)  # {{job.id}}, not {{input}}
    return {name: resolve(v, plain) for name, v in values.items()}


def as_text(value: Any) -> str:
    """A task value or For each item as a reference gives it: JSON, except that a string is itself."""
    return value if isinstance(value, str) else json.dumps(value)


def _lookup(parts: list[str], raw: str, scope: Scope) -> str:
    run, task_run = scope.run, scope.task_run
    head, rest = parts[0], parts[1:]
    if len(parts) == 1 and head in LEGACY:
        return _legacy(head, scope)
    if head == "input":
        if scope.item is _NO_INPUT:
            raise UnresolvedReference(f"{raw} can only be used in the task of a For each task.")  # (guess)
        item: Any = scope.item
        for key in rest:
            if not isinstance(item, dict) or key not in item:
                raise UnresolvedReference(f"The For each input {as_text(scope.item)} has no field {key!r} "
                                          f"for {raw}.")  # (guess)
            item = item[key]
        return as_text(item)
    if head == "job":
        return _job(rest, raw, scope)
    if head == "task":
        if task_run is None or not rest:
            raise UnresolvedReference(f"Invalid dynamic value reference {raw}.")
        return _task_field(rest[0], task_run, run, raw)
    # tasks.<key>.<field> / tasks.<key>.values.<name>
    if len(rest) < 2:
        raise UnresolvedReference(f"Invalid dynamic value reference {raw}.")
    key = rest[0]
    if rest[1] == "values" and len(rest) == 3:
        values = scope.task_values.get(key)
        if values is None or rest[2] not in values:
            raise UnresolvedReference(
                f"Failed to resolve {raw}: task {key} did not set a task value named {rest[2]!r}.")  # (guess)
        return as_text(values[rest[2]])
    latest = run.latest_attempts().get(key)
    if latest is None or not latest.state.terminal:
        raise UnresolvedReference(f"Failed to resolve {raw}: task {key} has not run.")  # (guess)
    return _task_field(rest[1], latest, run, raw)


def _job(rest: list[str], raw: str, scope: Scope) -> str:
    run = scope.run
    if not rest:
        raise UnresolvedReference(f"Invalid dynamic value reference {raw}.")
    if rest[0] == "parameters" and len(rest) == 2:
        if scope.in_parameter:
            raise UnresolvedReference(f"A job parameter cannot reference another job parameter ({raw}).")  # (guess)
        params = job_parameter_values(run, scope)
        if rest[1] not in params:
            raise UnresolvedReference(f"Failed to resolve {raw}: the job has no parameter named {rest[1]!r}.")
        return params[rest[1]]
    if rest[0] == "start_time" and len(rest) == 2:
        return _time_field(rest[1], run.start_time, raw)
    simple = {"id": str(run.job_id or ""), "name": run.run_name, "run_id": str(run.run_id),
              "repair_count": str(max(0, len(run.repairs) - 1))}
    if rest == ["trigger", "type"]:
        return run.trigger.lower()  # one_time (run-now, runs/submit) or run_job_task
    if len(rest) == 1 and rest[0] in simple:
        return simple[rest[0]]
    raise UnresolvedReference(f"Invalid dynamic value reference {raw}.")


def _task_field(name: str, task_run: TaskRun, run: Run, raw: str) -> str:
    if name == "name":
        return task_run.task_key
    if name == "run_id":
        return str(task_run.run_id)
    if name == "notebook_path":
        return str((task_run.task.get("notebook_task") or {}).get("notebook_path", ""))
    if name == "execution_count":
        return str(sum(1 for t in run.tasks if t.task_key == task_run.task_key and t.start_time))
    if name == "result_state":
        return (task_run.state.result_state or "").lower()
    if name == "error_code":
        return _ERROR_CODES.get(task_run.state.result_state or "", "")
    raise UnresolvedReference(f"Invalid dynamic value reference {raw}.")


def _time_field(name: str, epoch_ms: int, raw: str) -> str:
    at = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    fields = {
        "iso_date": at.strftime("%Y-%m-%d"),
        "iso_datetime": at.strftime("%Y-%m-%dT%H:%M:%S"),
        "is_weekday": "true" if at.isoweekday() <= 5 else "false",
        "iso_weekday": str(at.isoweekday()),
        "year": str(at.year), "month": str(at.month), "day": str(at.day), "hour": str(at.hour),
        "minute": str(at.minute), "second": str(at.second), "timestamp_ms": str(epoch_ms),
    }
    if name not in fields:
        raise UnresolvedReference(f"Invalid dynamic value reference {raw}.")
    return fields[name]


def _legacy(name: str, scope: Scope) -> str:
    run, task_run = scope.run, scope.task_run
    if name == "job_id":
        return str(run.job_id or "")
    if name in ("run_id", "parent_run_id"):
        return str(run.run_id)  # as the simulator always gave them (the docs: run_id is the task run's)
    if name == "task_key":
        return task_run.task_key if task_run else ""
    if name == "task_retry_count":
        return str(task_run.attempt_number if task_run else 0)
    at = datetime.fromtimestamp(run.start_time / 1000, tz=UTC)
    return at.strftime("%Y-%m-%d") if name == "start_date" else str(run.start_time)
