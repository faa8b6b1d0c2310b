"""The signal a follower of executions sleeps on (sim/aws/history_changes.py): an announced event ends its wait."""

from __future__ import annotations

import threading

from sim.aws import history_changes


def _sleeper(seen: int, timeout: float) -> tuple[threading.Thread, list[int]]:
    woke: list[int] = []
    thread = threading.Thread(target=lambda: woke.append(history_changes.wait_past(seen, timeout)), daemon=True)
    thread.start()
    return thread, woke


def test_an_announced_event_ends_a_wait_long_before_its_timeout_and_returns_the_new_generation():
    seen = history_changes.generation()
    thread, woke = _sleeper(seen, 600.0)
    history_changes.announce()
    thread.join(30)
    assert not thread.is_alive()
    assert woke and woke[0] > seen


def test_an_event_announced_before_the_wait_began_is_not_lost():
    seen = history_changes.generation()
    history_changes.announce()  # between the follower's poll and its sleep
    assert history_changes.wait_past(seen, 600.0) > seen


def test_without_an_event_the_wait_lasts_its_timeout_and_the_generation_stays():
    seen = history_changes.generation()
    thread, woke = _sleeper(seen + 1_000_000, 0.05)  # a generation no event reaches
    thread.join(30)
    assert woke == [history_changes.generation()]
