"""Quartz cron expressions (what a job's `schedule.quartz_cron_expression` holds) and when they fire.

Quartz: `sec min hour day-of-month month day-of-week [year]`, day-of-week 1-7 = SUN-SAT, one of the two
day fields `?`, `L` (last day / last weekday `6L`), `#` (nth weekday `6#3`), `W`. The firing times come
from `croniter` (which takes seconds first and years as a 7th field, but numbers weekdays 0-6 and writes
"last Friday" `L5`): this module only translates the day-of-week field and evaluates in `timezone_id`.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

__all__ = ["CronError", "next_fire"]

_DOW_NUMBER = re.compile(r"\d+")


class CronError(ValueError):
    """An expression or time zone a workspace rejects."""


def _dow(field: str) -> str:
    """Quartz weekday numbers (1 = SUN) to croniter's (0 = SUN); `nL` to `Ln`; `n#k` keeps its k."""
    if field in ("?", "*"):
        return "*"
    out = []
    for part in field.split(","):
        last = part.endswith("L") and part != "L"
        body = part[:-1] if last else part
        day, sep, nth = body.partition("#")
        day = _DOW_NUMBER.sub(lambda m: str(_shift(int(m.group()))), day)
        body = f"{day}{sep}{nth}"
        out.append(f"L{body}" if last else body)
    return ",".join(out)


def _shift(n: int) -> int:
    if not 1 <= n <= 7:
        raise CronError(f"day-of-week value {n} is outside 1-7")
    return n - 1


def to_croniter(expression: str) -> str:
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise CronError(f"Invalid Quartz cron expression {expression!r}: expected 6 or 7 fields, got {len(fields)}")
    dom, dow = fields[3], fields[5]
    if (dom == "?") == (dow == "?"):
        raise CronError(f"Invalid Quartz cron expression {expression!r}: exactly one of day-of-month and "
                        "day-of-week must be '?'")
    fields[3] = "*" if dom == "?" else dom
    fields[5] = _dow(dow.upper())
    return " ".join(fields)


def zone(timezone_id: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone_id or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"Invalid timezone_id {timezone_id!r}") from None


def validate(expression: str, timezone_id: str | None) -> None:
    """Raise CronError for what a workspace would refuse at jobs/create."""
    next_fire(expression, timezone_id, 0.0)


def next_fire(expression: str, timezone_id: str | None, after: float) -> float:
    """The first firing time strictly after `after` (epoch seconds), evaluated in `timezone_id`."""
    tz = zone(timezone_id)
    try:
        it = croniter(to_croniter(expression), datetime.fromtimestamp(after, tz), second_at_beginning=True)
        return float(it.get_next(float))
    except CronError:
        raise
    except Exception as e:  # croniter's own errors: a malformed field
        raise CronError(f"Invalid Quartz cron expression {expression!r}: {e}") from None
