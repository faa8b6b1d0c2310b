"""The signal a follower of executions sleeps on (sim/aws/history_changes.py): an announced event ends its wait."""

from __future__ import annotations

import threading

from sim import context as sim_context
from sim.aws.history_changes import HistoryChanges, of


def _sleeper(changes: HistoryChanges, seen: int, timeout: float) -> tuple[threading.Thread, list[int]]:
    woke: list[int] = []
    thread = threading.Thread(target=lambda: woke.append(changes.wait_past(seen, timeout)), daemon=True)
    thread.start()
    return thread, woke


def test_an_announced_event_ends_a_wait_long_before_its_timeout_and_returns_the_new_generation():
    changes = HistoryChanges()
    thread, woke = _sleeper(changes, changes.generation(), 600.0)
    changes.announce()
    thread.join(30)
    assert not thread.is_alive()
    assert woke == [1]


def test_an_event_announced_before_the_wait_began_is_not_lost():
    changes = HistoryChanges()
    seen = changes.generation()
    changes.announce()  # between the follower's poll and its sleep
    assert changes.wait_past(seen, 600.0) == 1


def test_without_an_event_the_wait_lasts_its_timeout_and_the_generation_stays():
    changes = HistoryChanges()
    thread, woke = _sleeper(changes, 0, 0.05)
    thread.join(30)
    assert woke == [0]


def test_each_simulator_has_its_own_signal():
    first, second = sim_context.SimContext(name="first"), sim_context.SimContext(name="second")
    assert of(first) is of(first)
    assert of(first) is not of(second)
    of(first).announce()
    assert (of(first).generation(), of(second).generation()) == (1, 0)
