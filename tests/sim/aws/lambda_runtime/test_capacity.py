"""Invocations beyond this machine's capacity wait for a slot, and the wait is never the function's time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.aws.lambda_runtime import LambdaRuntime
from sim.aws.lambda_runtime.capacity import CAPACITY_ENV, Capacity, default_slots
from tests.sim.aws.lambda_runtime.functions import config, local_runtime, package


def test_at_most_the_slots_run_at_once_and_the_rest_wait_their_turn():
    gate = Capacity(2, stall_s=30)
    running, peak, lock = [0], [0], threading.Lock()

    def invocation() -> None:
        with gate.slot():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            # Hold the slot until the other four have queued: a fixed sleep let a thread started late (a busy
            # machine) find a slot already free, and the spec then failed on how many had waited.
            deadline = time.monotonic() + 10
            while gate.stats().waited < 4 and time.monotonic() < deadline:
                time.sleep(0.005)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=invocation) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    stats = gate.stats()
    assert peak[0] == 2 and stats.peak_running == 2
    assert stats.waited == 4 and stats.running == stats.waiting == 0 and stats.over_capacity == 0


def test_a_gate_whose_every_slot_is_stuck_admits_one_more_so_a_parent_waiting_on_its_child_finishes():
    # A handler that invokes another function synchronously holds its slot while the child runs.
    gate = Capacity(1, stall_s=0.2)
    child_ran = threading.Event()

    def child() -> None:
        with gate.slot():
            child_ran.set()

    with gate.slot():  # the parent
        thread = threading.Thread(target=child)
        thread.start()
        assert child_ran.wait(timeout=10), "the child never got a slot: deadlock"
    thread.join(timeout=10)
    assert gate.stats().over_capacity == 1


def test_the_slots_default_to_four_per_core_and_the_variable_sets_them(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(CAPACITY_ENV, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_slots() == 8
    monkeypatch.setenv(CAPACITY_ENV, "3")
    assert Capacity().slots == 3
    monkeypatch.setenv(CAPACITY_ENV, "0")
    with pytest.raises(ValueError, match=CAPACITY_ENV):
        Capacity()


@pytest.fixture
def one_slot(tmp_path: Path) -> Iterator[LambdaRuntime]:
    with local_runtime(tmp_path, capacity=1) as runtime:
        yield runtime


def test_queued_invocations_succeed_even_when_their_wait_outlasts_the_timeout(one_slot: LambdaRuntime):
    # Each handler needs 0.4 s of its 1 s timeout; the fourth waits ~1.2 s for the single slot. On AWS each
    # would have run at once in its own environment, so none may time out (Lambda counts from the handler).
    code = package("import time\ndef handler(event, context):\n    time.sleep(0.4)\n    return event['n']\n")
    queued = config("queued", code, timeout_s=1.0)
    one_slot.invoke(queued, lambda: code, b'{"n": 0}')  # the environment is warm: the waits are the queue's
    results: dict[int, object] = {}

    def invoke(n: int) -> None:
        results[n] = one_slot.invoke(queued, lambda: code, f'{{"n": {n}}}'.encode())

    began = time.monotonic()
    threads = [threading.Thread(target=invoke, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert time.monotonic() - began > queued.timeout_s  # the last one did wait longer than its timeout
    assert {n: (r.status, r.payload) for n, r in results.items()} == {n: ("success", str(n).encode()) for n in
                                                                       range(1, 5)}
    durations = [float(line.split("\tDuration: ")[1].split(" ms")[0])
                 for line in one_slot.logs("queued") if line.startswith("REPORT")]
    assert len(durations) == 5 and max(durations) < 1000  # REPORT's Duration is the handler's time alone
    stats = one_slot.capacity()
    assert stats.peak_running == 1 and stats.waited >= 3
