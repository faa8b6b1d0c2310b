"""Runs one task attempt in the calling thread and says how it ended.

Notebook, python_file and python_wheel tasks as Databricks runs them; the caller (the worker's
executor) owns the thread, the Spark job group and stopping. Process-wide state a task changes —
`sys.argv`, `sys.path`, `os.environ` — is set for the attempt and restored once no running attempt needs
it (`task_environment`); attempts running concurrently on one cluster see each other's changes (as
notebooks sharing a cluster do).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.compute import errors, notebook_source, runtime
from sim.compute.context import TaskContext
from sim.compute.contract import Outcome, TaskInvocation
from sim.compute.dbutils.errors import NotebookExit
from sim.compute.task_environment import task_environment

FIVE_MB = 5 * 1024 * 1024


class TaskDefinitionError(Exception):
    """The task cannot start: missing file, package or entry point."""


def _run_notebook(path: Path, log: Callable[[str], None]) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__", **runtime.namespace_globals()}
    _run_cells(path, namespace, log)


def _run_cells(path: Path, namespace: dict[str, Any], log: Callable[[str], None]) -> None:
    for cell in notebook_source.parse(path.read_text(encoding="utf-8")):
        if cell.magic is None or cell.magic == "python":
            exec(compile(cell.padded(), str(path), "exec"), namespace)
        elif cell.magic in ("md", "md-sandbox"):
            continue
        elif cell.magic == "pip":
            log(f"[stepbricks] %pip{cell.body.strip() and ' '}{cell.body.strip()} ignored: the cluster uses the project's environment")
        elif cell.magic == "sql":
            for statement in filter(str.strip, cell.body.split(";")):
                result = namespace["spark"].sql(statement)
            namespace["display"](result)
        elif cell.magic == "run":
            _run_cells(notebook_source.resolve_run_target(path, cell.body.strip()), namespace, log)
        else:
            raise notebook_source.NotebookSourceError(
                f"%{cell.magic} cell at {path}:{cell.first_line} cannot run on a stepbricks cluster "
                "(supported: Python, %md, %pip (ignored), %sql, %run)"
            )


def _wheel_entry_point(package: str, name: str) -> Callable[[], Any]:
    """The entry point named `name` in the package's metadata, else `package.name` (Databricks' fallback)."""
    try:
        distribution = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise TaskDefinitionError(
            f"python_wheel_task: package {package!r} is not installed on the cluster (searched sys.path)"
        ) from None
    for entry_point in distribution.entry_points:
        if entry_point.name == name:
            return entry_point.load()
    module_name = package.replace("-", "_")
    try:
        function = getattr(importlib.import_module(module_name), name, None)
    except ImportError:
        function = None
    if callable(function):
        return function
    known = sorted({ep.name for ep in distribution.entry_points})
    raise TaskDefinitionError(
        f"python_wheel_task: package {package!r} has no entry point {name!r} and {module_name}.{name} "
        f"is not a function (entry points: {', '.join(known) or 'none'})"
    )


def _argv(invocation: TaskInvocation, program: str) -> list[str]:
    named = [f"--{key}={value}" for key, value in invocation.named_parameters.items()]
    return [program, *invocation.argv, *named]


def _require_file(invocation: TaskInvocation) -> Path:
    path = invocation.source_path
    if path is None or not Path(path).is_file():
        raise TaskDefinitionError(f"{invocation.kind} task {invocation.task_key!r}: file not found: {path}")
    return Path(path)


def _body(context: TaskContext, log: Callable[[str], None]) -> None:
    invocation = context.invocation
    if invocation.kind == "notebook":
        with task_environment(invocation, None):
            _run_notebook(_require_file(invocation), log)
    elif invocation.kind == "python_file":
        path = _require_file(invocation)
        with task_environment(invocation, _argv(invocation, str(path))):
            runpy.run_path(str(path), run_name="__main__")
    elif invocation.kind == "python_wheel":
        if not invocation.package_name or not invocation.entry_point:
            raise TaskDefinitionError("python_wheel_task needs package_name and entry_point")
        with task_environment(invocation, _argv(invocation, invocation.entry_point)):
            _wheel_entry_point(invocation.package_name, invocation.entry_point)()
    else:
        raise TaskDefinitionError(f"unknown task kind {invocation.kind!r}")


def _cut_head(text: str) -> tuple[str, bool]:
    data = text.encode("utf-8")
    if len(data) <= FIVE_MB:
        return text, False
    return data[:FIVE_MB].decode("utf-8", errors="ignore"), True


def _cut_tail(text: str) -> tuple[str, bool]:
    data = text.encode("utf-8")
    if len(data) <= FIVE_MB:
        return text, False
    return data[-FIVE_MB:].decode("utf-8", errors="ignore"), True


def run_attempt(context: TaskContext) -> dict[str, Any]:
    """Run the attempt; returns the TaskResult fields this layer knows (outcome, output, error, logs)."""
    outcome: Outcome = "SUCCESS"
    error = error_trace = None

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    try:
        _body(context, log)
    except NotebookExit as exit_:
        context.exit_value = exit_.value
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            outcome, error, error_trace = "FAILED", f"SystemExit: {exit_.code}", errors.trace(exit_)
    except errors.AttemptStopped as stop:
        if context.stop_reason is None:  # not ours: treat as any other failure
            outcome, error, error_trace = "FAILED", errors.one_line(stop), errors.trace(stop)
        else:
            outcome = context.stop_reason  # type: ignore[assignment]
    except BaseException as failure:
        if context.stop_reason is not None:  # e.g. the Spark job we canceled raised first
            outcome = context.stop_reason  # type: ignore[assignment]
        else:
            outcome, error, error_trace = "FAILED", errors.one_line(failure), errors.trace(failure)
    fields: dict[str, Any] = {"outcome": outcome, "error": error, "error_trace": error_trace}
    if context.exit_value is not None:
        fields["notebook_result"], fields["notebook_result_truncated"] = _cut_head(context.exit_value)
    fields["logs"], fields["logs_truncated"] = _cut_tail(context.log.text())
    if error_trace is not None:
        fields["error_trace"] = context.log.redact(error_trace)
        fields["error"] = context.log.redact(error)
    fields["task_values"] = dict(context.task_values)
    return fields


def stopped_fields(context: TaskContext) -> dict[str, Any]:
    """The fields of an attempt stopped before `run_attempt` could say anything itself."""
    logs, truncated = _cut_tail(context.log.text())
    return {"outcome": context.stop_reason or "CANCELED", "logs": logs, "logs_truncated": truncated}
