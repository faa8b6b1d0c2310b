"""A signal that a Step Functions execution's history grew, for a follower that would otherwise find out on a timer.

`stepbricks run` follows its execution as any client would, with GetExecutionHistory and DescribeExecution, every
0.5 s: the flight's last event waited 0-0.5 s for the next poll before the command could answer. A follower of the
embedded simulator sleeps on this signal instead (`AwsSimulator.history_waiter`), with the same interval as its
bound: it polls as soon as something was recorded, and never more often than events arrive. One signal per process:
another simulator's event only costs the follower one extra poll.
"""

from __future__ import annotations

import threading

__all__ = ["announce", "generation", "wait_past"]

_changed = threading.Condition()
_generation = 0


def generation() -> int:
    """How many history events this process has recorded so far."""
    with _changed:
        return _generation


def announce() -> None:
    """An event was recorded (`sim.aws.moto_seams.sfn_history`, after it is in the history)."""
    global _generation
    with _changed:
        _generation += 1
        _changed.notify_all()


def wait_past(seen: int, timeout: float) -> int:
    """Wait until an event newer than `seen` is recorded or `timeout` seconds pass; the generation now."""
    with _changed:
        _changed.wait_for(lambda: _generation > seen, timeout)
        return _generation
