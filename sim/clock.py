"""The simulator's single source of time.

Simulator code never calls `time.time`, `time.sleep` or `datetime.now` directly: it asks this module, so
the virtual clock can replace real time in one place.

`VirtualClock` follows Temporal's time-skipping test server: while any actor does real work (a Lambda
invocation, a Spark task, an execution between two states) time runs at wall speed; when every actor is
waiting on a timer, time jumps to the earliest timer and, when a thread waits on it, stands there until an
actor works or that thread wakes (waking a thread is not work). Actors say they are working with `clock.busy()`;
waiting through the clock (`sleep`, `wait`) releases that claim for the duration of the wait.

Helpers for code that is not ours (moto's interpreter): `ClockEvent` is a `threading.Event` whose `wait`
goes through the clock, and `ActorThread` is a `threading.Thread` that is busy while it runs (the claim is
taken in `start()`, so there is no instant between parent and child when nobody holds it) and whose
`join(timeout)` waits through the clock.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

# Where a frozen (deterministic) virtual clock starts: 2026-01-01T00:00:00Z.
DETERMINISTIC_EPOCH = 1_767_225_600.0

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

    def lend(self) -> str | None:
        """Lend the calling thread's busy claim to the server thread that will serve its next request.

        A busy actor blocked on a request to an in-process server (an execution calling Lambda through
        moto) is not working: the server thread is. Counting both as busy made a Lambda that waits on the
        clock (a delay or timeout fault) wait in wall time. Returns the token to send with the request
        (`LOAN_HEADER`); None when the thread holds no claim or time is real."""
        return None

    @contextmanager
    def borrow(self, token: str | None) -> Iterator[None]:
        """Serve a request in the lender's stead: the caller, already inside `busy()`, takes the lender's
        claim off the count for the block and puts it back before the response leaves, so at no instant
        is neither of them busy. An unknown token (another simulator's, a retried request's) borrows
        nothing."""
        yield

    def close(self) -> None:
        """Stop background machinery (none for real time)."""


class VirtualClock(Clock):
    """Time that skips ahead when every actor is waiting on a timer.

    Conditions, not polling: every change the skipper cares about (an actor becomes busy or idle, a timer
    is added or removed, skipping is switched back on) notifies one condition variable. The skipper
    sleeps on it until the clock is idle (no busy actor, at least one timer); it then gives the actors
    `settle` seconds to claim work (a hand-off between two threads that does not go through
    `ActorThread`, e.g. an HTTP request on its way to a server thread) and jumps only if nothing changed
    meanwhile. Waiters sleep on the same condition until their deadline (in real seconds, which is right
    between jumps since time runs at wall speed then) and are woken by a jump or by the `ClockEvent`
    they wait on being set; a plain `threading.Event` cannot notify, so waiting on one checks it every
    `PLAIN_EVENT_CHECK_S` (simulator code uses `ClockEvent`s), and the skipper looks at every plain event
    waited on before it jumps: one set by an actor just before it went idle ends its wait at that instant,
    not at the timeout (the check interval is longer than the settle time, so the jump used to win). So it
    does for `ClockEvent`s: one set whose waiter has not run again yet holds every jump until it has (the
    settle alone lost that race on a loaded machine: a task's end stamped after a flight's 30 s poll).

    Scope and limits: one clock per simulator (`sim.context`), shared by every thread working for that
    simulator (like Temporal's "time skipping is global to the environment"). Work done in other
    processes (Lambda and cluster workers) counts as busy through the in-process thread that waits for it.
    """

    virtual = True
    PLAIN_EVENT_CHECK_S = 0.05

    def __init__(self, *, start: float | None = None, settle: float | None = None, auto_skip: bool = True,
                 frozen: bool = False) -> None:
        """`frozen=True` is the deterministic time base: time starts at `start` (default
        `DETERMINISTIC_EPOCH`) and moves only by jumps to timers and `advance`, never with wall time, so
        work takes no virtual time and the same flight gives the same timestamps. A deadline on real work
        (`wait(release=False)`, a Lambda's timeout) is then measured in wall seconds instead.

        `settle` (default 20 ms) is how long every actor must stay idle before a jump: it covers hand-offs
        between threads that do not pass a busy claim on. It must stay well under a polling client's
        interval, because a request in flight is busy (`aws_faults`) and restarts the count."""
        lock = threading.RLock()
        self._cond = threading.Condition(lock)  # the skipper's: busy actors, timers and the switch changed
        self._tick = threading.Condition(lock)  # the waiters': time moved or an event was set
        self.frozen = frozen
        if frozen:
            self._offset = DETERMINISTIC_EPOCH if start is None else start
        else:
            self._offset = 0.0 if start is None else start - time.time()
        self._busy = 0
        self._timers: list[tuple[float, int]] = []  # (virtual deadline, id), a heap
        self._seq = itertools.count()
        self._local = threading.local()
        self._settle = 0.02 if settle is None else settle
        self._auto_skip = auto_skip
        self._version = 0  # bumped on every change of busy actors or timers (the skipper's settle check)
        self._loans: set[str] = set()  # tokens lent and not yet borrowed; see `lend`
        self._plain: dict[int, threading.Event] = {}  # plain events waited on (they cannot notify)
        # `ClockEvent`s waited on, with their generation at the start of the wait: one that fired has a waiter
        # about to run again, and time must not move before it does (see `_skipper`).
        self._watched: dict[int, tuple[ClockEvent, int]] = {}
        self._closed = False
        # After a jump to a timer a thread waits on, time stands at its instant until that thread acts:
        # waking a thread is not work, and on a loaded machine it took a second of wall time, which a clock
        # running from the jump stamped on the waiter's next event (a 3,600 s timeout recorded at 3,601.05 s).
        self._held_at: float | None = None
        self._waited: set[int] = set()  # ids of the timers a thread blocks on in `wait` (see `_timer`)
        self.skipped_seconds = 0.0
        self.jumps = 0
        self._thread = threading.Thread(target=self._skipper, name="stepbricks-virtual-clock", daemon=True)
        self._thread.start()

    # --- reading time ---------------------------------------------------------------------------------
    def now(self) -> float:
        held = self._held_at  # read once: `_resume` sets the offset before it clears this
        if held is not None:
            return held
        return self._offset if self.frozen else time.time() + self._offset

    def _resume(self) -> None:
        """Time held at a jump's target runs on from it (hold `_cond`): an actor took a claim or a waiter
        left its timer (the one jumped to, or one whose event fired meanwhile)."""
        held = self._held_at
        if held is not None:
            self._offset = held - time.time()
            self._held_at = None

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

    def lend(self) -> str | None:
        if getattr(self._local, "depth", 0) == 0:
            return None
        token = f"{id(self):x}-{next(self._seq)}"
        with self._cond:
            self._loans.add(token)
        return token

    @contextmanager
    def borrow(self, token: str | None) -> Iterator[None]:
        with self._cond:
            lent = bool(token) and token in self._loans and getattr(self._local, "depth", 0) > 0
            if lent:
                self._loans.discard(token)  # once: a retried request with the same token borrows nothing
                self._busy -= 1  # the lender's claim; this thread's own keeps the clock busy meanwhile
                self._changed()
        try:
            yield
        finally:
            if lent:
                self._add_busy(+1)

    def _changed(self) -> None:
        """Record a change and wake the skipper (hold `_cond`). Waiters sleep on `_tick`: a busy claim
        taken or a timer added concerns no waiter, and waking all of them on each (every request
        served, every thread started) cost a thundering herd at 50 concurrent executions."""
        self._version += 1
        self._cond.notify_all()

    def _moved(self) -> None:
        """Time moved or an event was set: wake the skipper and every waiter (hold `_cond`)."""
        self._changed()
        self._tick.notify_all()

    def _add_busy(self, delta: int) -> None:
        with self._cond:
            if delta > 0:
                self._resume()
            self._busy += delta
            self._changed()

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
        self.wait(ClockEvent(), seconds)

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
            self._moved()  # an event was set: its waiter is about to act, so the skipper starts over

    @contextmanager
    def _timer(self, at: float, *, waited: bool = False) -> Iterator[None]:
        """`waited`: a thread blocks in `wait` until it falls due, so it will wake and leave at once (an
        alarm's holder may be blocked on a later timer instead: time held at the alarm would never reach it)."""
        timer = (at, next(self._seq))
        with self._cond:
            heapq.heappush(self._timers, timer)
            if waited:
                self._waited.add(timer[1])
            self._changed()
        try:
            yield
        finally:
            with self._cond:
                self._resume()
                self._waited.discard(timer[1])
                self._timers.remove(timer)
                heapq.heapify(self._timers)
                self._changed()

    @contextmanager
    def alarm(self, at: float | None) -> Iterator[None]:
        if at is None:
            yield
            return
        with self._timer(at):
            yield

    def poll(self, event: threading.Event, seconds: float) -> bool:
        with self._released():
            return threading.Event.wait(event, seconds)

    def wait(self, event: threading.Event, timeout: float | None, *, release: bool = True) -> bool:
        if event.is_set():
            return True
        if timeout is not None and timeout >= FOREVER_S:
            timeout = None
        # A `ClockEvent` wakes this clock when set and counts its sets, so a set-then-clear pulse (moto's
        # `program_state_event`) is not missed.
        notifies = isinstance(event, ClockEvent)
        generation = event.generation if notifies else None  # type: ignore[attr-defined]
        check = None if notifies else self.PLAIN_EVENT_CHECK_S

        def fired() -> bool:
            return event.is_set() or (notifies and event.generation != generation)  # type: ignore[attr-defined]

        def block(seconds: float | None) -> None:
            if self.frozen and seconds is not None:
                seconds = None  # frozen time moves only by jumps, and every jump notifies
            with self._cond:
                if not fired():
                    self._tick.wait(seconds if check is None else min(seconds or check, check))

        if self.frozen and not release and timeout is not None:
            return Clock.wait(self, event, timeout)  # a deadline on real work: wall seconds

        key = next(self._seq)
        if notifies:
            event.watch(self)  # type: ignore[attr-defined]
            with self._cond:
                self._watched[key] = (event, generation)  # type: ignore[assignment]
        else:
            with self._cond:
                self._plain[key] = event
        try:
            if timeout is None:
                with self._released() if release else _nothing():
                    while not fired():
                        block(None)
                    return True
            deadline = self.now() + timeout
            # The timer is taken before the busy claim is released and dropped after it is taken back, so a
            # busy waiter never leaves an instant with neither (the skipper would jump past its work).
            with self._timer(deadline, waited=True), self._released() if release else _nothing():
                while not fired():
                    remaining = deadline - self.now()
                    if remaining <= 0:
                        break
                    block(remaining)
                return fired()
        finally:
            if notifies:
                event.unwatch(self)  # type: ignore[attr-defined]
            with self._cond:
                (self._watched if notifies else self._plain).pop(key, None)

    # --- control --------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move time forward by hand (tests); timers that fall due wake up."""
        with self._cond:
            self._offset += seconds
            if self._held_at is not None:
                self._held_at += seconds
            self.skipped_seconds += seconds
            self._moved()

    @contextmanager
    def auto_skipping_disabled(self) -> Iterator[None]:
        """Real time inside the block (e.g. while a test watches a Wait state happen)."""
        previous, self._auto_skip = self._auto_skip, False
        try:
            yield
        finally:
            with self._cond:
                self._auto_skip = previous
                self._changed()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._moved()

    def _idle(self) -> bool:
        return self._busy <= 0 and bool(self._timers) and self._auto_skip

    def _skipper(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._idle():
                    self._cond.wait()  # until an actor, a timer or the switch changes
                    continue
                # Idle: give the actors `settle` seconds to claim work; any change restarts the count.
                seen = self._version
                settle_until = time.monotonic() + self._settle
                while not self._closed and self._version == seen and self._idle():
                    left = settle_until - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._closed or self._version != seen or not self._idle():
                    continue
                # An event set while its waiter has not run again yet (a task's end, on a loaded machine for
                # longer than the settle): the waiter acts, and takes its claim back, before time may move.
                if any(event.is_set() for event in self._plain.values()) or any(
                        event.is_set() or event.generation != seen_at for event, seen_at in self._watched.values()):
                    self._tick.notify_all()  # its waiter acts (and drops its timer) before time may move
                    self._cond.wait(self._settle)
                    continue
                jump = self._timers[0][0] - self.now()
                if jump > 0:
                    # Frozen time lands exactly on the timer (adding the difference can fall an ulp short
                    # and leave its waiter a hair before its deadline, forever).
                    if self.frozen:
                        self._offset = self._timers[0][0]
                    else:
                        if self._timers[0][1] in self._waited:  # held first: no reader sees a hair past it
                            self._held_at = self._timers[0][0]
                        self._offset += jump
                    self.skipped_seconds += jump
                    self.jumps += 1
                    self._moved()
                else:  # the earliest timer is due already: its waiter is waking; wait for it to leave
                    self._cond.wait()


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
        for clock in self._watchers() or [get()]:
            clock.notify()

    def _watchers(self) -> list[Clock]:
        return list(self.__dict__.get("_sb_watchers", ()))

    def watch(self, clock: Clock) -> None:
        """`clock` has a waiter on this event: `set` must wake it (its simulator may not be the setter's)."""
        self.__dict__.setdefault("_sb_watchers", []).append(clock)

    def unwatch(self, clock: Clock) -> None:
        watchers = self.__dict__.get("_sb_watchers", [])
        if clock in watchers:
            watchers.remove(clock)

    def wait(self, timeout: float | None = None) -> bool:
        return get().wait(self, timeout)


class ActorThread(threading.Thread):
    """A thread that is an actor (busy) while it runs, except while it waits through the clock.

    Like `sim.context.Thread` it works for the context of the thread that created it, and an exception it
    dies of goes to that context's error sink."""

    def start(self) -> None:
        from sim import context

        self._sb_context = context.current()
        self._sb_variables = contextvars.copy_context()  # as `sim.context.Thread`: the creator's variables
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
        self._sb_variables.run(self._run_as_actor)

    def _run_as_actor(self) -> None:
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


# The header that carries a `Clock.lend` token from a client to the in-process server thread serving it.
LOAN_HEADER = "X-Stepbricks-Clock-Loan"


def lend() -> str | None:
    return get().lend()


def borrow(token: str | None) -> AbstractContextManager[None]:
    return get().borrow(token)
