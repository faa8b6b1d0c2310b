"""EventBridge as the simulator needs it: scheduled rules that fire, and connections whose secret follows
UpdateConnection (the HTTP Task reads it).

Scheduled rules that fire: `rate(...)` / `cron(...)` rules with Step Functions targets.

moto stores scheduled rules but never fires them. Each simulator has a `Scheduler` of its own (started by
its first PutRule with a ScheduleExpression, stopped with the simulator): a thread that waits on the
simulator's clock for the next firing time of any ENABLED scheduled rule in the simulator's account and
then starts an execution for each `arn:aws:states:...:stateMachine:` target, on the simulator's own port,
with the target's `Input` or, without one, the "Scheduled Event" EventBridge sends. On a virtual clock an
idle simulator jumps straight to the next firing, so a day of hourly runs takes seconds. It waits on a
condition, not a loop: PutRule and EnableRule wake it (targets are read when a rule fires), so does stopping, and otherwise it
sleeps until the next firing (or until woken, when no rule is scheduled).
"""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any

from moto.events.models import EventsBackend, events_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.utilities.utils import CamelToUnderscoresWalker

from sim import boto_clients, clock
from sim.aws.moto_seams import core
from sim.aws.moto_seams.core import Seam, SeamHost, register
from sim.aws.schedules import ScheduleError, parse

__all__ = ["Scheduler", "fired"]

_ORIGINAL_PUT_RULE = EventsBackend.put_rule
_ORIGINAL_ENABLE_RULE = EventsBackend.enable_rule
_ORIGINAL_UPDATE_CONNECTION = EventsBackend.update_connection
_PART = "eventbridge-scheduler"
_STOP_TIMEOUT_S = 30.0  # wall seconds a stopping simulator waits for a firing in flight


class Scheduler:
    """One simulator's scheduled rules: when each started and fired last, what fired, and the thread that
    fires them. Owned by the simulator's `SeamHost`, so it works for that simulator's clock, ids, account
    and port only, and ends with it (it was one thread per process, bound to whichever simulator happened
    to start it, and outlived it whenever another simulator was running)."""

    def __init__(self, host: SeamHost) -> None:
        self.host = host
        self._lock = threading.Lock()
        self._changed = clock.ClockEvent()
        self._stopping = False
        self._started: dict[str, tuple[str, datetime.datetime]] = {}  # rule ARN -> (expression, start)
        self._last: dict[str, datetime.datetime] = {}  # rule ARN -> the last firing handled
        self._fired: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None

    @classmethod
    def of(cls, host: SeamHost) -> Scheduler:
        """`host`'s scheduler (made on first use, stopped when the host is uninstalled)."""
        return host.part(_PART, lambda: cls(host), close=lambda scheduler: scheduler.stop())

    def fired(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(f) for f in self._fired]

    def scheduled(self, arn: str, expression: str) -> None:
        """PutRule with a ScheduleExpression: a new or changed schedule starts now (simulator clock)."""
        with self._lock:
            if self._started.get(arn, ("",))[0] != expression:
                self._started[arn] = (expression, clock.utcnow())
                self._last.pop(arn, None)
        self.wake()

    def enabled(self, arn: str) -> None:
        """EnableRule: the schedule goes on from now."""
        with self._lock:
            self._last[arn] = clock.utcnow()
        self.wake()

    def wake(self) -> None:
        """Something the next firing time depends on changed: start the thread or make it look again."""
        with self._lock:
            if self._stopping:
                return
            if self._thread is None:
                # An actor: between waking at a rule's time and its StartExecution being in flight it is
                # working, so the virtual clock does not skip the next hours past a firing. Made in the
                # simulator's context whatever thread calls (it carries the binding of its creator).
                with self.host.context.bound():
                    self._thread = clock.ActorThread(target=self._run, daemon=True, name="eventbridge-scheduler")
                    self._thread.start()
        self._changed.set()

    def stop(self) -> None:
        """Wake the thread to leave and wait for a firing in flight (wall time: the clock may be closed)."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._changed.set()
        if thread is not None:
            threading.Thread.join(thread, _STOP_TIMEOUT_S)

    def _rules(self) -> list[Any]:
        out = []
        for region in list(events_backends[self.host.account_id].keys()):
            for bus in list(events_backends[self.host.account_id][region].event_buses.values()):
                out += [r for r in list(bus.rules.values()) if r.scheduled_expression and r.state == "ENABLED"]
        return out

    def _due(self, now: datetime.datetime) -> tuple[datetime.datetime | None, list[tuple[Any, datetime.datetime]]]:
        """The next firing time after the last one handled, and the rules due at or before `now`."""
        earliest, due = None, []
        for rule in self._rules():
            with self._lock:
                _, started = self._started.setdefault(rule.arn, (rule.scheduled_expression, now))
                last = self._last.get(rule.arn, started)
            at = parse(rule.scheduled_expression).next_after(last, created=started)
            if at <= now:
                due.append((rule, at))
            elif earliest is None or at < earliest:
                earliest = at
        return earliest, due

    def _run(self) -> None:
        while True:
            self._changed.clear()
            with self._lock:
                if self._stopping:
                    return
            now = clock.utcnow()
            earliest, due = self._due(now)
            for rule, at in due:
                with self._lock:
                    self._last[rule.arn] = at
                self._fire(rule, at)
            if due:
                continue
            # Until the next firing, or until woken (a rule changed, the simulator stops).
            timeout = None if earliest is None else max(0.0, (earliest - clock.utcnow()).total_seconds())
            clock.wait(self._changed, timeout)

    def _fire(self, rule: Any, at: datetime.datetime) -> None:
        region = rule.arn.split(":")[3]
        ids = self.host.context.ids
        event = {"version": "0", "id": ids.uuid("event"), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": rule.created_by, "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
                 "resources": [rule.arn], "detail": {}}
        client = boto_clients.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{self.host.port}",  # this thread's
                                      region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
        for target in list(rule.targets):
            arn = target.get("Arn", "")
            record: dict[str, Any] = {"rule": rule.arn, "time": at.isoformat(), "target": arn}
            if ":states:" in arn and ":stateMachine:" in arn:
                try:
                    record["execution_arn"] = client.start_execution(
                        stateMachineArn=arn, name=ids.uuid("execution"),
                        input=target.get("Input") or json.dumps(event))["executionArn"]
                except Exception as exc:  # EventBridge drops a failed delivery (no DLQ configured)
                    record["error"] = f"{type(exc).__name__}: {exc}"
            else:
                record["error"] = "only Step Functions targets are delivered by the simulator"
            with self._lock:
                self._fired.append(record)


def fired() -> list[dict[str, Any]]:
    """Every scheduled firing so far of the simulator the calling thread works for: rule ARN, time, target,
    execution ARN or error."""
    host = core.current_host()
    scheduler = host.part_if_any(_PART) if host is not None else None
    return scheduler.fired() if scheduler is not None else []


def _put_rule(self: EventsBackend, name: str, description: str | None = None, event_bus_arn: str | None = None,
              event_pattern: str | None = None, role_arn: str | None = None, scheduled_expression: str | None = None,
              state: str | None = None, managed_by: str | None = None, tags: list[dict[str, str]] | None = None) -> Any:
    """Wraps `EventsBackend.put_rule`: a ScheduleExpression is validated as EventBridge does and the rule is
    scheduled from now (simulator clock) by the simulator's scheduler, which moto lacks."""
    if scheduled_expression:
        try:
            parse(scheduled_expression)
        except ScheduleError as exc:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError("ValidationException", str(exc)) from None
    rule = _ORIGINAL_PUT_RULE(self, name, description=description, event_bus_arn=event_bus_arn,
                              event_pattern=event_pattern, role_arn=role_arn,
                              scheduled_expression=scheduled_expression, state=state, managed_by=managed_by, tags=tags)
    if scheduled_expression:
        Scheduler.of(core.host_of_account(self.account_id)).scheduled(rule.arn, scheduled_expression)
    return rule


def _enable_rule(self: EventsBackend, name: str, event_bus_arn: str | None) -> bool:
    """Wraps `EventsBackend.enable_rule`: a scheduled rule enabled again fires again, from its next time
    after now (firings missed while it was disabled are not made up). The scheduler, which otherwise
    sleeps until the next firing it knows of (for ever when none), is woken to look."""
    enabled = _ORIGINAL_ENABLE_RULE(self, name, event_bus_arn)
    rule = self.describe_rule(name, event_bus_arn) if enabled else None
    if rule is not None and rule.scheduled_expression:
        Scheduler.of(core.host_of_account(self.account_id)).enabled(rule.arn)
    return enabled


def _merged(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{k: _merged(old.get(k), v) for k, v in new.items()}}
    return new


def _update_connection(self: EventsBackend, name: str, **kwargs: Any) -> dict[str, Any]:
    """Wraps `EventsBackend.update_connection`.

    Restores: UpdateConnection merges the given AuthParameters into the connection's and rewrites the
    connection's Secrets Manager secret, as EventBridge does; moto replaced the parameters and kept the old
    secret, so an HTTP Task kept sending a rotated-out key."""
    connection = self.connections.get(name)
    if connection is not None and kwargs.get("auth_parameters") is not None:
        kwargs["auth_parameters"] = _merged(connection.auth_parameters, kwargs["auth_parameters"])
    described = _ORIGINAL_UPDATE_CONNECTION(self, name, **kwargs)
    if connection is not None and kwargs.get("auth_parameters") is not None:
        secret: dict[str, Any] = {}
        for key, value in connection.auth_parameters.items():  # the layout moto's CreateConnection writes
            secret.update({key: value} if key == "InvocationHttpParameters" else value)
        secretsmanager_backends[self.account_id][self.region_name].put_secret_value(
            connection.secret_arn, json.dumps(CamelToUnderscoresWalker.parse(secret)), None, None, ["AWSCURRENT"])
    return described


register(
    [(EventsBackend, "put_rule", _put_rule), (EventsBackend, "enable_rule", _enable_rule),
     (EventsBackend, "update_connection", _update_connection)],
    [Seam(EventsBackend, "put_rule", ("self", "name", "description", "event_bus_arn", "event_pattern", "role_arn",
                                      "scheduled_expression", "state", "managed_by", "tags"), _put_rule.__doc__ or "",
          proved_by="tests/sim/aws/glue/test_schedules_and_alarms.py::test_a_day_of_hourly_runs_starts_24_executions_on_the_virtual_clock"),
     Seam(EventsBackend, "enable_rule", ("self", "name", "event_bus_arn"), _enable_rule.__doc__ or "",
          proved_by="tests/sim/aws/glue/test_schedules_and_alarms.py::test_a_disabled_rule_fires_only_once_enabled_and_from_then_on"),
     Seam(EventsBackend, "update_connection", ("self", "name", "kwargs"), _update_connection.__doc__ or "",
          proved_by="tests/sim/aws/sfn/test_http_invoke.py::test_update_connection_rotates_the_key_in_its_secret_and_the_next_call_sends_it")],
)
