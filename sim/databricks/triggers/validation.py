"""The checks jobs/create, reset and update make on `schedule`, `trigger` and `continuous` (400
INVALID_PARAMETER_VALUE), so a broken trigger is refused where the user sent it, not silently never fired."""

from __future__ import annotations

from typing import Any

from sim.databricks.errors import InvalidParameterValue
from sim.databricks.triggers import quartz
from sim.databricks.triggers.file_arrival import split_url

PAUSE = (None, "PAUSED", "UNPAUSED")
UNITS = ("HOURS", "DAYS", "WEEKS")


def validate_triggers(settings: dict[str, Any]) -> None:
    schedule = settings.get("schedule")
    if schedule:
        expression = schedule.get("quartz_cron_expression")
        if not expression:
            raise InvalidParameterValue("Missing required field: schedule.quartz_cron_expression")
        if not schedule.get("timezone_id"):
            raise InvalidParameterValue("Missing required field: schedule.timezone_id")
        try:
            quartz.validate(expression, schedule["timezone_id"])
        except quartz.CronError as e:
            raise InvalidParameterValue(str(e)) from None
    for name in ("schedule", "trigger", "continuous"):
        if (settings.get(name) or {}).get("pause_status") not in PAUSE:
            raise InvalidParameterValue(f"{name}.pause_status must be PAUSED or UNPAUSED.")
    trigger = settings.get("trigger") or {}
    periodic = trigger.get("periodic")
    if periodic is not None:
        if not isinstance(periodic.get("interval"), int) or periodic["interval"] < 1:
            raise InvalidParameterValue("trigger.periodic.interval must be a positive integer.")
        if periodic.get("unit") not in UNITS:
            raise InvalidParameterValue(f"trigger.periodic.unit must be one of {', '.join(UNITS)}.")
    arrival = trigger.get("file_arrival")
    if arrival is not None:
        try:
            split_url(arrival.get("url") or "")
        except ValueError as e:
            raise InvalidParameterValue(str(e)) from None
