"""Execution histories that end where AWS's end: at the one terminal execution event.

moto's interpreter lets Map iterations and Parallel branches that are still running when the
execution fails keep writing events, so a history could read `... MapStateFailed, ExecutionFailed,
MapIterationSucceeded` (or hold a second terminal event). On AWS the execution's terminal event
(ExecutionSucceeded / Failed / Aborted / TimedOut) is always the last one and appears once.
Registered with `core.register` at import. The event timestamps themselves are `sfn_time`'s
business; this patch only decides whether an event is recorded.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.eval.event import event_manager
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

from sim import context as sim_context
from sim.aws import history_changes
from sim.aws.moto_seams.core import Seam, register

__all__ = ["TERMINAL_EVENTS", "reopen"]

TERMINAL_EVENTS = frozenset({HistoryEventType.ExecutionSucceeded, HistoryEventType.ExecutionFailed,
                             HistoryEventType.ExecutionAborted, HistoryEventType.ExecutionTimedOut})
_ENDED = "_stepbricks_ended"


def _add_event(self: EventManager, context: Any, event_type: HistoryEventType, event_details: Any = None,
               timestamp: Any = None, update_source_event_id: bool = True) -> int:
    """Replaces `EventManager.add_event` (the same steps, under the same lock, plus one check).

    Restores: nothing is recorded (in the history or the execution log) after the execution's terminal
    event, and that event is recorded once. Adds: each recorded event is announced (`sim.aws.history_changes`).
    """
    with self._mutex:
        if self.__dict__.get(_ENDED):
            return context.last_published_event_id or 0
        event_id: int = self._event_id_gen.get()
        source_event_id: int = context.source_event_id
        # Through the module, so a patch of its clock or formatting (sfn_time) still applies.
        timestamp = event_manager.iso_8601_datetime_with_milliseconds(timestamp or self._get_current_timestamp())
        context.last_published_event_id = event_id
        if update_source_event_id:
            context.source_event_id = event_id
        self._publish_history_event(event_id=event_id, source_event_id=source_event_id, event_type=event_type,
                                    timestamp=timestamp, event_details=event_details)
        self._publish_history_log(event_id=event_id, source_event_id=source_event_id, event_type=event_type,
                                  timestamp=timestamp, event_details=event_details)
        if event_type in TERMINAL_EVENTS:
            self.__dict__[_ENDED] = True
    # After the lock: a follower woken by it reads the event (sim/aws/history_changes.py).
    history_changes.of(sim_context.current()).announce()
    return event_id


def reopen(manager: EventManager) -> None:
    """Record events again after the terminal one: a redriven execution appends to its history
    (ExecutionRedriven, then the resumed states, then its new terminal event; sfn_redrive)."""
    with manager._mutex:
        manager.__dict__.pop(_ENDED, None)


register(
    [(EventManager, "add_event", _add_event)],
    [Seam(EventManager, "add_event", ("self", "context", "event_type", "event_details", "timestamp",
                                      "update_source_event_id"), _add_event.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_integrations.py::test_no_event_follows_the_terminal_event_when_map_iterations_race")],
)
