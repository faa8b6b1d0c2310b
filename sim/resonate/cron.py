"""Five-field cron (minute hour day-of-month month day-of-week), what Resonate schedules take.

Supports `*`, lists, ranges and `/` steps; day-of-week 0-6 with 0 (and 7) Sunday. When both day fields
are restricted a day matches either (Vixie cron). Times are UTC milliseconds, as the server stores them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_HORIZON_DAYS = 366 * 5


class CronError(ValueError):
    """An expression the server refuses (answered 400)."""


def _field(text: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            start, end = low, high
        elif "-" in body:
            start, end = (int(x) for x in body.split("-", 1))
        else:
            start = end = int(body)
            if step_text:
                end = high
        if not (low <= start <= end <= high) or step < 1:
            raise CronError(f"cron field {text!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def day_matches(self, day: datetime.date) -> bool:
        if day.month not in self.months:
            return False
        in_dom, in_dow = day.day in self.days, (day.weekday() + 1) % 7 in self.weekdays  # cron: Sunday is 0
        if self.days_restricted and self.weekdays_restricted:
            return in_dom or in_dow
        return in_dom and in_dow


def parse(expression: str) -> Cron:
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"cron expression {expression!r} must have 5 fields")
    try:
        minutes, hours, days, months, weekdays = (_field(f, lo, hi) for f, (lo, hi) in zip(fields, _LIMITS, strict=True))
    except ValueError as exc:
        raise CronError(str(exc)) from None
    return Cron(minutes, hours, days, months, frozenset(d % 7 for d in weekdays), fields[2] != "*", fields[4] != "*")


def next_run(expression: str, after_ms: int) -> int:
    """The first minute strictly after `after_ms` that the expression matches, in ms since the epoch."""
    cron = parse(expression)
    start = datetime.datetime.fromtimestamp(after_ms / 1000, tz=datetime.UTC).replace(second=0, microsecond=0)
    start += datetime.timedelta(minutes=1)
    day = start.date()
    for _ in range(_HORIZON_DAYS):
        if cron.day_matches(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    at = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC)
                    if at >= start:
                        return int(at.timestamp() * 1000)
        day += datetime.timedelta(days=1)
    raise CronError(f"cron expression {expression!r} does not fire within {_HORIZON_DAYS} days")
