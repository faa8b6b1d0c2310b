"""EventBridge schedule expressions (`rate(...)`, `cron(...)`) and when they fire next, in UTC.

Follows "Schedule expressions for rules" in the EventBridge user guide: `rate(value unit)` with unit
minute(s)/hour(s)/day(s) (value 1 takes the singular); `cron(Minutes Hours Day-of-month Month
Day-of-week Year)` with `*`, `?`, lists, ranges and `/` steps, month names JAN-DEC, weekdays 1-7 = SUN-SAT
or SUN-SAT names; one of day-of-month / day-of-week must be `?`. `L`, `W` and `#` are not supported
(a clear ScheduleError says so). A rate schedule fires first one period after the rule is created.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = ["Schedule", "ScheduleError", "parse"]

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_MONTHS = {m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                       "NOV", "DEC"], start=1)}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(ValueError):
    """An expression EventBridge would reject, or a cron feature the simulator does not support."""


def _field(text: str, low: int, high: int, names: dict[str, int], what: str) -> frozenset[int] | None:
    """The values a cron field allows; None for `?` (no restriction from this field)."""
    if text == "?":
        return None
    if any(c in text for c in "LW#"):
        raise ScheduleError(f"cron {what} {text!r}: L, W and # are not supported by the simulator")
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, names, what), _value(b, names, what)
        else:
            start = end = _value(base, names, what)
            if step:
                end = high
        for v in range(start, end + 1, int(step) if step else 1):
            if not low <= v <= high:
                raise ScheduleError(f"cron {what} value {v} is outside {low}-{high}")
            values.add(v)
    return frozenset(values)


def _value(text: str, names: dict[str, int], what: str) -> int:
    text = text.upper()
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleError(f"cron {what} {text!r} is not a number or a name")
    return int(text)


@dataclass(frozen=True)
class Schedule:
    expression: str
    period_s: int | None = None  # rate
    fields: tuple[frozenset[int] | None, ...] = ()  # cron: minute, hour, dom, month, dow, year

    def next_after(self, after: datetime.datetime, *, created: datetime.datetime | None = None) -> datetime.datetime:
        """The first firing time strictly after `after` (aware UTC)."""
        if self.period_s is not None:
            origin = created or after
            elapsed = (after - origin).total_seconds()
            periods = int(elapsed // self.period_s) + 1
            return origin + datetime.timedelta(seconds=periods * self.period_s)
        minute, hour, dom, month, dow, year = self.fields
        t = (after + datetime.timedelta(minutes=1)).replace(second=0, microsecond=0)
        for _ in range(60 * 24 * 366 * 5):
            if ((year is None or t.year in year) and (month is None or t.month in month)
                    and (dom is None or t.day in dom) and (dow is None or (t.isoweekday() % 7) + 1 in dow)):
                if (hour is None or t.hour in hour) and (minute is None or t.minute in minute):
                    return t
                t += datetime.timedelta(minutes=1)
            else:
                t = (t + datetime.timedelta(days=1)).replace(hour=0, minute=0)
        raise ScheduleError(f"{self.expression} never fires in the next five years")


def parse(expression: str) -> Schedule:
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ScheduleError(f"Parameter ScheduleExpression is not valid: {expression}")
        return Schedule(text, period_s=value * _UNIT_S[unit.rstrip("s")])
    cron = _CRON.match(text)
    if not cron:
        raise ScheduleError(f"Parameter ScheduleExpression is not valid: {expression}")
    parts = cron.group(1).split()
    if len(parts) != 6:
        raise ScheduleError(f"Parameter ScheduleExpression is not valid: {expression} (cron needs 6 fields)")
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ScheduleError(f"Parameter ScheduleExpression is not valid: {expression} "
                            "(exactly one of day-of-month and day-of-week must be ?)")
    fields = (_field(parts[0], 0, 59, {}, "minutes"), _field(parts[1], 0, 23, {}, "hours"),
              _field(parts[2], 1, 31, {}, "day-of-month"), _field(parts[3], 1, 12, _MONTHS, "month"),
              _field(parts[4], 1, 7, _DAYS, "day-of-week"), _field(parts[5], 1970, 2199, {}, "year"))
    return Schedule(text, fields=tuple(None if f is not None and parts[i] == "*" else f
                                       for i, f in enumerate(fields)))
