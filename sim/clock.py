"""The simulator's single source of time.

Simulator code never calls `time.time`, `time.sleep` or `datetime.now` directly: it asks this module, so
the virtual clock can replace real time in one place.

`VirtualClock` follows Temporal's time-skipping test server: while any actor does real work (a Lambda
invocation, a Spark task, an execution between two states) time runs at wall speed; when every actor is
waiting on a timer, time jumps to the earliest timer. Actors say they are working with `clock.busy()`;
waiting through the clock (`sleep`, `wait`) releases that claim for the duration of the wait.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime


class Clock:
    """Real time. `VirtualClock` overrides `now`, `sleep`, `wait` and `busy`."""

    virtual = False

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
        """Wait on `event` for at most `timeout` seconds of this clock's time; True if it was set."""
        return event.wait(timeout)

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Mark the calling thread as an actor doing real work (no effect on real time)."""
        yield

    def close(self) -> None:
        """Stop background machinery (none for real time)."""


class VirtualClock(Clock):
    """Time that skips ahead when every actor is waiting on a timer.

    Scope and limits: one clock per process, global to every thread that uses this module (like
    Temporal's "time skipping is global to the environment"). Work done in other processes (Lambda and
    cluster workers) counts as busy through the in-process thread that waits for it.
    """

    virtual = True

    def __init__(self, *, start: float | None = None, settle: float = 0.02, auto_skip: bool = True) -> None:
        self._cond = threading.Condition()
        self._offset = 0.0 if start is None else start - time.time()
        self._busy = 0
        self._timers: list[tuple[float, int]] = []  # (virtual deadline, id), a heap
        self._seq = itertools.count()
        self._local = threading.local()
        self._settle = settle
        self._auto_skip = auto_skip
        self._changed = time.monotonic()
        self._closed = False
        self.skipped_seconds = 0.0
        self._thread = threading.Thread(target=self._skipper, name="stepbricks-virtual-clock", daemon=True)
        self._thread.start()

    # --- reading time ---------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self._offset

    # --- actors ---------------------------------------------------------------------------------------
    @contextmanager
    def busy(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth == 0:
            self._add_busy(+1)
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._add_busy(-1)

    def _add_busy(self, delta: int) -> None:
        with self._cond:
            self._busy += delta
            self._changed = time.monotonic()
            self._cond.notify_all()

    @contextmanager
    def _released(self) -> Iterator[None]:
        """While a busy thread waits on the clock it is not doing work."""
        holding = getattr(self._local, "depth", 0) > 0
        if holding:
            self._add_busy(-1)
        try:
            yield
        finally:
            if holding:
                self._add_busy(+1)

    # --- waiting --------------------------------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.wait(threading.Event(), seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        if event.is_set():
            return True
        with self._released():
            if timeout is None:
                return event.wait()
            deadline = self.now() + timeout
            timer = (deadline, next(self._seq))
            with self._cond:
                heapq.heappush(self._timers, timer)
                self._changed = time.monotonic()
                self._cond.notify_all()
            try:
                while not event.is_set():
                    remaining = deadline - self.now()
                    if remaining <= 0:
                        break
                    # Short real waits: the event may be set by another thread, the clock may jump.
                    with self._cond:
                        self._cond.wait(min(remaining, 0.01))
                return event.is_set()
            finally:
                with self._cond:
                    self._timers.remove(timer)
                    heapq.heapify(self._timers)
                    self._changed = time.monotonic()

    # --- control --------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move time forward by hand (tests); timers that fall due wake up."""
        with self._cond:
            self._offset += seconds
            self.skipped_seconds += seconds
            self._cond.notify_all()

    @contextmanager
    def auto_skipping_disabled(self) -> Iterator[None]:
        """Real time inside the block (e.g. while a test watches a Wait state happen)."""
        previous, self._auto_skip = self._auto_skip, False
        try:
            yield
        finally:
            self._auto_skip = previous

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _skipper(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                self._cond.wait(self._settle / 2)
                idle = self._busy <= 0 and self._timers and self._auto_skip
                if not idle or time.monotonic() - self._changed < self._settle:
                    continue
                jump = self._timers[0][0] - self.now()
                if jump > 0:
                    self._offset += jump
                    self.skipped_seconds += jump
                    self._cond.notify_all()


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


def utcnow() -> datetime:
    return _clock.utcnow()


def sleep(seconds: float) -> None:
    _clock.sleep(seconds)


def wait(event: threading.Event, timeout: float | None) -> bool:
    return _clock.wait(event, timeout)


def busy() -> AbstractContextManager[None]:
    return _clock.busy()
