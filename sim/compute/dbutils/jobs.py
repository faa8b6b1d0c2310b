"""`dbutils.jobs.taskValues`: values a task hands to the tasks downstream of it in the same run.

`set` values travel back in `TaskResult.task_values`; the scheduler passes upstream values in
`TaskInvocation.task_values`. Values must be JSON-serialisable, as on Databricks.
"""

from __future__ import annotations

import json
from typing import Any

from sim.compute import context


class TaskValues:
    def set(self, key: str, value: Any) -> None:
        task = context.current()
        if task is None:
            return  # outside a job run Databricks ignores set, too
        json.dumps(value)  # TypeError for a value Databricks would reject
        task.task_values[key] = value

    def get(self, taskKey: str, key: str, default: Any = None, debugValue: Any = None) -> Any:
        task = context.current()
        if task is None:
            if debugValue is None:
                # databricks-sdk dbutils.py _TaskValuesUtil.get: the same check outside a job
                raise TypeError(
                    "Must pass debugValue when calling get outside of a job context. debugValue cannot be None."
                )
            return debugValue
        values = task.invocation.task_values.get(taskKey, {})
        if key in values:
            return values[key]
        if default is not None:
            return default
        raise ValueError(f"Could not find task value with key {key} in task {taskKey}")


class Jobs:
    def __init__(self) -> None:
        self.taskValues = TaskValues()
