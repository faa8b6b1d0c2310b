"""A signal that a Step Functions execution's history grew, for a follower that would otherwise find out on a timer.

`stepbricks run` follows its execution as any client would, with GetExecutionHistory and DescribeExecution, every
0.5 s: the flight's last event waited 0-0.5 s for the next poll before the command could answer. A follower of the
embedded simulator sleeps on its simulator's signal instead (`AwsSimulator.history_waiter`), with the same interval
as its bound: it polls as soon as something was recorded, and never more often than events arrive.
"""

from __future__ import annotations

import threading

from sim import context as sim_context

__all__ = ["HistoryChanges", "of"]


class HistoryChanges:
    """How many history events one simulator has recorded, and a wait for the next."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._generation = 0

    def generation(self) -> int:
        with self._changed:
            return self._generation

    def announce(self) -> None:
        """An event was recorded (`sim.aws.moto_seams.sfn_history`, once it is in the history)."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait_past(self, seen: int, timeout: float) -> int:
        """Wait until an event newer than `seen` is recorded or `timeout` seconds pass; the generation now."""
        with self._changed:
            self._changed.wait_for(lambda: self._generation > seen, timeout)
            return self._generation


def of(context: sim_context.SimContext) -> HistoryChanges:
    """The simulator's signal (on its context: two simulators in a process wake only their own followers)."""
    return context.memo(HistoryChanges, HistoryChanges)
