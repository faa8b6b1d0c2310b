"""The simulator's single source of time.

Simulator code never calls `time.time`, `time.sleep` or `datetime.now` directly: it asks this module,
so the virtual clock (Temporal's time-skipping model) can replace real time in one place.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Real time. The virtual clock subclasses this and overrides `now` and `sleep`."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait on `event` for at most `timeout` seconds of this clock's time."""
        return event.wait(timeout)


_clock: Clock = Clock()


def get() -> Clock:
    return _clock


def install(clock: Clock) -> Clock:
    """Make `clock` the simulator's clock; returns the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> float:
    return _clock.now()


def now_ms() -> int:
    return _clock.now_ms()


def sleep(seconds: float) -> None:
    _clock.sleep(seconds)
