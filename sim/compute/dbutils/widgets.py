"""`dbutils.widgets`: job parameters as widgets, with Databricks' job-run semantics.

In a job run the parameters (base_parameters merged with run-now's) are already bound when the notebook
starts, so defining a widget (`text`, `dropdown`, …) only supplies a default and never overwrites a value
already set; `get` of a name neither passed nor defined raises `InputWidgetNotDefined` naming it.
"""

from __future__ import annotations

from sim.compute import context
from sim.compute.dbutils.errors import InputWidgetNotDefined


def _task() -> context.TaskContext:
    task = context.current()
    if task is None:
        raise RuntimeError("dbutils.widgets is only available inside a task running on a stepbricks cluster")
    return task


class Widgets:
    def _define(self, name: str, default_value: str) -> None:
        _task().widgets.setdefault(name, str(default_value))

    def text(self, name: str, defaultValue: str, label: str | None = None) -> None:
        self._define(name, defaultValue)

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        if defaultValue not in choices:
            raise ValueError(f"Default value {defaultValue} of dropdown widget {name} is not one of {choices}")
        self._define(name, defaultValue)

    def combobox(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._define(name, defaultValue)

    def multiselect(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._define(name, defaultValue)

    def get(self, name: str) -> str:
        widgets = _task().widgets
        if name not in widgets:
            raise InputWidgetNotDefined(name)
        return widgets[name]

    def getArgument(self, name: str, defaultValue: str | None = None) -> str | None:
        """Deprecated on Databricks; returns `defaultValue` instead of raising for a missing widget."""
        return _task().widgets.get(name, defaultValue)

    def getAll(self) -> dict[str, str]:
        return dict(_task().widgets)

    def remove(self, name: str) -> None:
        widgets = _task().widgets
        if name not in widgets:
            raise InputWidgetNotDefined(name)
        del widgets[name]

    def removeAll(self) -> None:
        _task().widgets.clear()
