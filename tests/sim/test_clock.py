"""The virtual clock: Temporal's time-skipping model (skip only when every actor waits on a timer)."""

from __future__ import annotations

import threading
import time

import pytest

from sim.clock import Clock, VirtualClock


@pytest.fixture
def clock():
    c = VirtualClock(start=1_700_000_000.0)
    yield c
    c.close()


def test_an_hour_of_sleep_passes_in_an_instant_of_wall_time_and_exactly_an_hour_of_virtual_time(clock):
    before = clock.now()
    wall = time.monotonic()
    with clock.busy():
        clock.sleep(3600)
    assert clock.now() - before == pytest.approx(3600, abs=0.5)
    assert time.monotonic() - wall < 30  # generous: this asserts "skipped", not a speed


def test_time_does_not_skip_while_another_actor_is_busy(clock):
    release = threading.Event()
    woke = threading.Event()

    def sleeper():
        with clock.busy():
            clock.sleep(3600)
        woke.set()

    def worker():
        with clock.adopt():
            release.wait()

    clock.claim()  # busy before the sleeper starts, however slowly the worker's thread gets going
    threading.Thread(target=worker, daemon=True).start()
    threading.Thread(target=sleeper, daemon=True).start()
    assert not woke.wait(0.3), "the sleeper must not wake while the worker is busy"
    release.set()
    assert woke.wait(10)


def test_skips_go_to_the_earliest_timer_first(clock):
    order: list[str] = []
    start = clock.now()

    def sleep(name, seconds):
        with clock.adopt():  # one of the claims taken below
            clock.sleep(seconds)
        order.append(name)

    threads = [threading.Thread(target=sleep, args=(n, s)) for n, s in (("long", 300), ("short", 30))]
    # Both actors busy before either thread exists: otherwise "long" may be asleep, nobody busy, and time
    # skip to its timer before "short" has started (failed once in a loaded suite run).
    for _ in threads:
        clock.claim()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["short", "long"]
    assert clock.now() - start == pytest.approx(300, abs=0.5)


def test_an_event_set_by_a_busy_actor_ends_a_wait_before_its_timeout(clock):
    """A plain `threading.Event` cannot wake the clock; the skipper must look at it before it jumps."""
    clock.PLAIN_EVENT_CHECK_S = 5  # the waiter looks late: only the skipper's own look keeps time still
    event = threading.Event()
    start = clock.now()

    def actor():
        with clock.adopt():  # the claim taken below, before the thread exists
            time.sleep(0.05)  # real work
            event.set()

    clock.claim()  # an actor from the start: a thread slow to start must not let time skip to the timeout
    threading.Thread(target=actor).start()
    with clock.busy():
        assert clock.wait(event, 10_000) is True
    assert clock.now() - start < 100


def test_a_timer_skips_when_the_only_other_thread_is_not_an_actor(clock):
    """Threads that never claimed `busy` are invisible to the clock (as in Temporal: only workers count)."""
    event = threading.Event()
    threading.Timer(0.5, event.set).start()
    start = clock.now()
    assert clock.wait(event, 600) is False
    assert clock.now() - start == pytest.approx(600, abs=0.5)


def test_a_wait_that_times_out_returns_false_after_exactly_the_timeout(clock):
    start = clock.now()
    assert clock.wait(threading.Event(), 45) is False
    assert clock.now() - start == pytest.approx(45, abs=0.5)


def test_advance_moves_time_by_hand(clock):
    start = clock.now()
    clock.advance(120)
    assert clock.now() - start == pytest.approx(120, abs=0.5)


def test_the_real_clock_is_the_default_and_does_not_skip():
    real = Clock()
    assert real.virtual is False
    assert abs(real.now() - time.time()) < 1
