"""The simulator's single source of time.

Simulator code never calls `time.time`, `time.sleep` or `datetime.now` directly: it asks this module, so
the virtual clock can replace real time in one place.

`VirtualClock` follows Temporal's time-skipping test server: while any actor does real work (a Lambda
invocation, a Spark task, an execution between two states) time runs at wall speed; when every actor is
waiting on a timer, time jumps to the earliest timer. Actors say they are working with `clock.busy()`;
waiting through the clock (`sleep`, `wait`) releases that claim for the duration of the wait.

Helpers for code that is not ours (moto's interpreter): `ClockEvent` is a `threading.Event` whose `wait`
goes through the clock, and `ActorThread` is a `threading.Thread` that is busy while it runs (the claim is
taken in `start()`, so there is no instant between parent and child when nobody holds it) and whose
`join(timeout)` waits through the clock.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

# Step Functions' "no timeout" (the default TimeoutSeconds of a Task): a wait this long is a wait for an
# event only, never a timer to skip to — or an idle simulator would time out every callback at once.
FOREVER_S = 99_999_999


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

    def wait(self, event: threading.Event, timeout: float | None, *, release: bool = True) -> bool:
        """Wait on `event` for at most `timeout` seconds of this clock's time; True if it was set.

        `release=False` keeps the caller's busy claim: a deadline on real work (a Lambda's timeout) runs
        at wall speed and is never skipped to."""
        return threading.Event.wait(event, timeout)

    def poll(self, event: threading.Event, seconds: float) -> bool:
        """A short real-time wait that is not a timer: a polling loop must never make virtual time jump."""
        return threading.Event.wait(event, seconds)

    def notify(self) -> None:
        """Something a waiter may watch changed (a `ClockEvent` was set)."""

    @contextmanager
    def alarm(self, at: float | None) -> Iterator[None]:
        """Hold a timer at clock time `at` for the block (a deadline that a polling loop checks): a virtual
        clock skips no further than it. No effect on real time or when `at` is None."""
        yield

    def claim(self) -> None:
        """Take a busy claim on behalf of a thread about to start (`ActorThread`); it adopts it."""

    @contextmanager
    def adopt(self) -> Iterator[None]:
        """Run the block as busy with a claim taken earlier by `claim()` (no effect on real time)."""
        yield

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

    def claim(self) -> None:
        self._add_busy(+1)

    @contextmanager
    def adopt(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth > 0:  # already busy in this thread: hand the extra claim back
            self._add_busy(-1)
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._add_busy(-1)

    def notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    @contextmanager
    def alarm(self, at: float | None) -> Iterator[None]:
        if at is None:
            yield
            return
        timer = (at, next(self._seq))
        with self._cond:
            heapq.heappush(self._timers, timer)
            self._changed = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self._timers.remove(timer)
                heapq.heapify(self._timers)
                self._changed = time.monotonic()

    def poll(self, event: threading.Event, seconds: float) -> bool:
        with self._released():
            return threading.Event.wait(event, seconds)

    def wait(self, event: threading.Event, timeout: float | None, *, release: bool = True) -> bool:
        if event.is_set():
            return True
        if timeout is not None and timeout >= FOREVER_S:
            timeout = None
        # A `ClockEvent` notifies the clock when set and counts its sets, so a set-then-clear pulse (moto's
        # `program_state_event`) is not missed and its waiters need not poll often.
        generation = getattr(event, "generation", None)
        poll = 0.25 if generation is not None else 0.01

        def fired() -> bool:
            return event.is_set() or (generation is not None and event.generation != generation)  # type: ignore[attr-defined]

        with self._released() if release else _nothing():
            if timeout is None:
                while not fired():
                    with self._cond:
                        if not fired():
                            self._cond.wait(poll)
                return True
            deadline = self.now() + timeout
            timer = (deadline, next(self._seq))
            with self._cond:
                heapq.heappush(self._timers, timer)
                self._changed = time.monotonic()
                self._cond.notify_all()
            try:
                while not fired():
                    remaining = deadline - self.now()
                    if remaining <= 0:
                        break
                    # Short real waits: the event may be set by another thread, the clock may jump.
                    with self._cond:
                        if not fired():
                            self._cond.wait(min(remaining, poll))
                return fired()
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


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class ClockEvent(threading.Event):
    """A `threading.Event` whose `wait` goes through the simulator's clock (for code that calls
    `event.wait(timeout)` itself, such as moto's interpreter).

    `set` wakes the clocks of the threads waiting on it (they may work for different simulators)."""

    generation = 0

    def set(self) -> None:
        self.generation += 1
        super().set()
        for clock in list(getattr(self, "_sb_waiting", ())) or [get()]:
            clock.notify()

    def wait(self, timeout: float | None = None) -> bool:
        return get().wait(self, timeout)


class ActorThread(threading.Thread):
    """A thread that is an actor (busy) while it runs, except while it waits through the clock.

    Like `sim.context.Thread` it works for the context of the thread that created it, and an exception it
    dies of goes to that context's error sink."""

    def start(self) -> None:
        from sim import context

        self._sb_context = context.current()
        self._sb_clock = self._sb_context.clock
        self._sb_clock.claim()
        self._sb_done = ClockEvent()
        try:
            super().start()
        except BaseException:
            with self._sb_clock.adopt():  # give the claim back
                pass
            raise

    def run(self) -> None:
        try:
            with self._sb_context.bound(), self._sb_clock.adopt():
                try:
                    super().run()
                except BaseException as error:
                    self._sb_context.errors.report(error, f"thread {self.name}")
        finally:
            self._sb_done.set()

    def join(self, timeout: float | None = None) -> None:
        done = getattr(self, "_sb_done", None)
        if done is not None and not done.wait(timeout):
            return
        super().join(None if done is not None else timeout)


def get() -> Clock:
    """The clock of the simulator the calling thread works for (`sim.context.current()`)."""
    from sim import context

    return context.current().clock


def install(clock: Clock) -> Clock:
    """Make `clock` the clock of the calling thread's context; returns the previous one."""
    from sim import context

    ctx = context.current()
    previous, ctx.clock = ctx.clock, clock
    return previous


def now() -> float:
    return get().now()


def now_ms() -> int:
    return get().now_ms()


def utcnow() -> datetime:
    return get().utcnow()


def sleep(seconds: float) -> None:
    get().sleep(seconds)


def wait(event: threading.Event, timeout: float | None, *, release: bool = True) -> bool:
    return get().wait(event, timeout, release=release)


def poll(event: threading.Event, seconds: float) -> bool:
    return get().poll(event, seconds)


def busy() -> AbstractContextManager[None]:
    return get().busy()
