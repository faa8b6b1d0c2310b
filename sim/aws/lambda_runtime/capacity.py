"""How many execution environments run an invocation at once: this machine's share of what AWS gives each one.

On AWS every execution environment has its own CPU, so a thousand concurrent invocations each take what one
takes alone. Here they share the machine's cores: under a burst (100 files uploaded at once) a hundred
environments, the cluster and the simulator's servers starve one another, and a handler that needs 50 ms of
CPU outlasts its 30 s timeout, a `Sandbox.Timedout` AWS would never give. So invocations beyond the machine's
capacity wait for a slot before their environment starts, and the timeout (like Duration in REPORT) counts
from the start of the handler, as AWS counts it: the wait is invisible to the function and to its caller.

The wait is real time, never virtual (it is held under the clock's `busy()`): no simulated time passes while
an invocation queues, just as none would pass on AWS, where it would not queue at all.

A handler may invoke another function synchronously and wait for it while holding its slot; with every slot
held by such a parent the children would wait forever. So when no slot has been released for `stall_s` of
wall time while invocations wait, one more is admitted beyond the capacity: progress over the bound.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CAPACITY_ENV = "STEPBRICKS_LAMBDA_CONCURRENCY"
SLOTS_PER_CORE = 4  # the pipeline's handlers mostly wait on HTTP (S3, Step Functions, the workspace)
MIN_SLOTS = 4
STALL_S = 2.0


def default_slots() -> int:
    """`STEPBRICKS_LAMBDA_CONCURRENCY`, else four per core (at least four)."""
    given = os.environ.get(CAPACITY_ENV, "").strip()
    if given:
        slots = int(given)
        if slots < 1:
            raise ValueError(f"{CAPACITY_ENV} must be a positive integer, got {given!r}")
        return slots
    return max(MIN_SLOTS, SLOTS_PER_CORE * (os.cpu_count() or 1))


@dataclass(frozen=True)
class CapacityStats:
    slots: int
    running: int
    waiting: int
    peak_running: int
    peak_waiting: int
    waited: int  # invocations that queued at all
    over_capacity: int  # admitted beyond the slots because none was released for stall_s


class Capacity:
    """A counting gate with a stall escape: at most `slots` invocations run, unless all of them are stuck."""

    def __init__(self, slots: int | None = None, *, stall_s: float = STALL_S) -> None:
        self.slots = default_slots() if slots is None else slots
        if self.slots < 1:
            raise ValueError(f"a Lambda capacity needs at least one slot, got {self.slots}")
        self._stall_s = stall_s
        self._cond = threading.Condition()
        self._running = 0
        self._waiting = 0
        self._last_release = time.monotonic()
        self._peak_running = self._peak_waiting = self._waited = self._over = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the body (an environment's start and its handler)."""
        self._acquire()
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._last_release = time.monotonic()
                self._cond.notify()

    def stats(self) -> CapacityStats:
        with self._cond:
            return CapacityStats(self.slots, self._running, self._waiting, self._peak_running, self._peak_waiting,
                                 self._waited, self._over)

    def _acquire(self) -> None:
        with self._cond:
            if self._running >= self.slots:
                arrived = time.monotonic()
                self._waited += 1
                self._waiting += 1
                self._peak_waiting = max(self._peak_waiting, self._waiting)
                try:
                    while self._running >= self.slots:
                        stalled_for = time.monotonic() - max(self._last_release, arrived)
                        if stalled_for >= self._stall_s:
                            self._over += 1
                            self._last_release = time.monotonic()  # one admission per stall
                            break
                        self._cond.wait(self._stall_s - stalled_for)
                finally:
                    self._waiting -= 1
            self._running += 1
            self._peak_running = max(self._peak_running, self._running)
