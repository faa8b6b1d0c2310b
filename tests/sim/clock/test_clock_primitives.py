"""The clock pieces moto's interpreter and the fake workspace are wired with: `ClockEvent`, `ActorThread`,
`alarm`, `poll`, `wait(release=False)` and Step Functions' "no timeout"."""

from __future__ import annotations

import threading
import time

import pytest

from sim import context as sim_context
from sim.clock import FOREVER_S, ActorThread, Clock, ClockEvent, VirtualClock


@pytest.fixture
def virtual():
    """A virtual clock in a context of its own, bound for the test. `ClockEvent.wait` and `ActorThread` use
    the calling thread's context, which, unbound, is the newest simulator running in this worker: the test
    must neither read that simulator's clock nor replace it (installing into it did both)."""
    installed = VirtualClock(start=1_700_000_000.0)
    with sim_context.bind(sim_context.SimContext(clock=installed, name="clock-primitives")):
        yield installed
    installed.close()


def test_a_set_then_clear_pulse_wakes_a_clock_event_waiter(virtual):
    """moto signals `program_state_event` with set(); clear() — a waiter must not miss it."""
    event, woke = ClockEvent(), threading.Event()

    def waiter():
        with virtual.busy():
            woke.set() if event.wait(3600) else None

    thread = sim_context.Thread(target=waiter)  # works for this test's context, so waits on `virtual`
    with virtual.busy():  # keep time from skipping to the waiter's timeout
        thread.start()
        deadline = time.monotonic() + 10
        while virtual not in event._watchers() and time.monotonic() < deadline:  # the waiter is in wait()
            time.sleep(0.005)  # (a fixed sleep here lost the race on a loaded machine)
        event.set()
        event.clear()
        thread.join(5)
    assert woke.is_set()


def test_an_actor_thread_holds_time_still_while_it_works(virtual):
    start = virtual.now()
    release = threading.Event()
    worker = ActorThread(target=release.wait)
    worker.start()
    sleeper = threading.Thread(target=virtual.sleep, args=(600,))
    sleeper.start()
    sleeper.join(0.3)
    assert sleeper.is_alive(), "time must not skip while the actor thread runs"
    release.set()
    sleeper.join(10)
    assert virtual.now() - start == pytest.approx(600, abs=0.5)


def test_joining_an_actor_thread_with_a_timeout_waits_on_the_clock(virtual):
    hang = ActorThread(target=lambda: virtual.sleep(10_000), daemon=True)
    start = virtual.now()
    hang.start()
    hang.join(60)  # the state machine's TimeoutSeconds: Program.eval joins its worker like this
    assert hang.is_alive()
    assert virtual.now() - start == pytest.approx(60, abs=0.5)


def test_an_alarm_stops_a_skip_at_its_deadline_while_a_loop_polls(virtual):
    start = virtual.now()
    deadline = start + 45
    seen = []

    def loop():
        with virtual.alarm(deadline):
            while virtual.now() < deadline:
                virtual.poll(threading.Event(), 0.02)
            seen.append(virtual.now())

    thread = threading.Thread(target=loop)
    thread.start()
    virtual.sleep(3600)  # a far timer elsewhere: the alarm must still be honoured first
    thread.join(10)
    assert seen and seen[0] - start == pytest.approx(45, abs=0.5)


class _SlowToWake(ClockEvent):
    """An event whose waiter, once time has jumped, takes `lag` seconds to run again (a loaded machine)."""

    def __init__(self, clock: VirtualClock, lag: float) -> None:
        super().__init__()
        self._clock, self._lag, self._lagged = clock, lag, False

    def is_set(self) -> bool:
        if self._clock.jumps and not self._lagged:
            self._lagged = True
            time.sleep(self._lag)
        return super().is_set()


def test_after_a_jump_time_stands_at_the_timer_until_its_waiter_wakes(virtual):
    """Waking a thread is not work: a waiter slow to run again still finds its timer's instant, not the
    instant plus however long the machine took to run it (a loaded CI once stamped a 3,600 s timeout at
    3,601.05 s)."""
    start, woke = virtual.now(), []
    thread = threading.Thread(target=lambda: woke.append(virtual.wait(_SlowToWake(virtual, 0.4), 100) or virtual.now()))
    thread.start()
    thread.join(10)
    assert woke == [pytest.approx(start + 100, abs=0.05)]
    after = virtual.now()
    time.sleep(0.05)
    assert virtual.now() - after == pytest.approx(0.05, abs=0.04), "once its waiter woke, time runs on"


def test_time_held_after_a_jump_runs_on_as_soon_as_any_actor_works(virtual):
    start = virtual.now()
    thread = threading.Thread(target=virtual.wait, args=(_SlowToWake(virtual, 0.8), 100))
    thread.start()
    while not virtual.jumps:
        time.sleep(0.005)
    held = virtual.now()
    time.sleep(0.1)
    assert virtual.now() == held == pytest.approx(start + 100, abs=0.05), "nobody works: time stands"
    with virtual.busy():
        time.sleep(0.3)
        assert virtual.now() - held == pytest.approx(0.3, abs=0.1)
    thread.join(10)


class _SlowAfterSet(ClockEvent):
    """An event whose waiter, once it is set, takes `lag` seconds to run again (a loaded machine)."""

    def __init__(self, waiter: str, lag: float) -> None:
        super().__init__()
        self._waiter, self._lag, self._lagged = waiter, lag, False

    def is_set(self) -> bool:
        if super().is_set() and threading.current_thread().name == self._waiter and not self._lagged:
            self._lagged = True
            time.sleep(self._lag)
        return super().is_set()


def test_no_jump_while_a_set_events_waiter_has_not_run_again(virtual):
    """A run's attempt ends (its event set, the thread that kept time busy gone) while the thread waiting for
    it is slow to run: time must not jump to another actor's timer first, or the end is stamped after it."""
    done, woke = _SlowAfterSet("attempt", 0.4), []

    def attempt():
        with virtual.busy():
            done.wait()
            woke.append(virtual.now())

    sleeper = threading.Thread(target=virtual.sleep, args=(3600,), daemon=True)  # a flight's pending Wait
    waiter = sim_context.Thread(target=attempt, name="attempt")  # works for this test's context: waits on `virtual`
    with virtual.busy():
        sleeper.start()
        waiter.start()
        deadline = time.monotonic() + 10
        while virtual not in done._watchers() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.1)  # the waiter is blocked in its wait
        start = virtual.now()
        done.set()
    waiter.join(10)
    assert woke and woke[0] - start < 5, "time jumped before the waiter of a set event ran again"


def test_time_does_not_stand_at_an_alarm_whose_holder_waits_for_a_later_timer(virtual):
    """A Databricks run holds its deadline as an alarm and waits on its own timer a hair after it: held at
    the alarm, time would never reach that timer."""
    deadline, woke = virtual.now() + 600, []

    def run_loop():
        with virtual.alarm(deadline):
            virtual.wait(ClockEvent(), deadline - virtual.now())
            woke.append(virtual.now())

    thread = threading.Thread(target=run_loop, daemon=True)
    thread.start()
    thread.join(10)
    assert woke and woke[0] >= deadline


def test_polling_alone_never_makes_time_jump(virtual):
    start = virtual.now()
    for _ in range(10):
        virtual.poll(threading.Event(), 0.02)
    assert virtual.now() - start < 5


def test_a_wait_that_keeps_its_claim_runs_at_wall_speed(virtual):
    start = virtual.now()
    with virtual.busy():
        assert virtual.wait(threading.Event(), 0.2, release=False) is False
    assert virtual.now() - start == pytest.approx(0.2, abs=0.15)


def test_step_functions_no_timeout_is_not_a_timer(virtual):
    event = ClockEvent()
    threading.Timer(0.3, event.set).start()
    start = virtual.now()
    assert virtual.wait(event, FOREVER_S) is True
    assert virtual.now() - start < 60


def _serve(virtual: VirtualClock, token: str | None, seconds: float, done: threading.Event) -> threading.Thread:
    """A server thread that serves one request by sleeping `seconds` on the clock, borrowing `token`."""
    def serve() -> None:
        with virtual.busy(), virtual.borrow(token):
            virtual.sleep(seconds)
        done.set()

    thread = threading.Thread(target=serve)
    thread.start()
    return thread


def test_a_busy_caller_that_lends_its_claim_lets_the_server_it_waits_for_skip_time(virtual):
    """An execution blocked on a Lambda invocation is not working: with its claim lent, a Lambda that
    sleeps 300 s on the clock costs no wall time."""
    done = threading.Event()
    with virtual.busy():
        token = virtual.lend()
        _serve(virtual, token, 300, done).join(10)
        assert done.is_set()
    assert virtual.skipped_seconds >= 299


def test_a_caller_that_keeps_its_claim_holds_the_server_to_wall_time(virtual):
    done = threading.Event()
    with virtual.busy():
        thread = _serve(virtual, None, 300, done)
        assert not done.wait(0.5)
        assert virtual.skipped_seconds == 0
    thread.join(10)  # the caller let go: now time skips
    assert done.is_set()


def test_a_loan_is_borrowed_once_and_given_back_before_the_server_lets_go(virtual):
    """A retried request with the same token borrows nothing, and the lender counts as busy again as
    soon as the server's block ends, before the server itself lets go."""
    counts: list[int] = []
    inside, leave = threading.Event(), threading.Event()

    def server(token: str | None) -> None:
        with virtual.busy():
            with virtual.borrow(token):
                inside.set()
                leave.wait(5)
            counts.append(virtual._busy)  # after giving the loan back, still busy itself

    with virtual.busy():
        token = virtual.lend()
        first = threading.Thread(target=server, args=(token,))
        first.start()
        assert inside.wait(5)
        counts.append(virtual._busy)  # the server only: the caller's claim is lent
        inside.clear()
        retry = threading.Thread(target=server, args=(token,))
        retry.start()
        assert inside.wait(5)
        counts.append(virtual._busy)  # both servers; the retry borrowed nothing
        leave.set()
        first.join(5)
        retry.join(5)
        counts.append(virtual._busy)  # the caller's own claim again
    assert counts[:2] == [1, 2] and counts[-1] == 1
    assert all(c >= 2 for c in counts[2:-1])


def test_nothing_is_lent_by_a_thread_that_is_not_busy(virtual):
    assert virtual.lend() is None
    assert Clock().lend() is None
