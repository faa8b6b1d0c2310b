"""EventBridge as the simulator needs it: scheduled rules that fire, and connections whose secret follows
UpdateConnection (the HTTP Task reads it).

Scheduled rules that fire: `rate(...)` / `cron(...)` rules with Step Functions targets.

moto stores scheduled rules but never fires them. A scheduler thread (started by the first PutRule with a
ScheduleExpression) waits on the simulator's clock for the next firing time of any ENABLED scheduled
rule and then starts an execution for each `arn:aws:states:...:stateMachine:` target, with the target's
`Input` or, without one, the "Scheduled Event" EventBridge sends. On a virtual clock an idle simulator
jumps straight to the next firing, so a day of hourly runs takes seconds. It stops once no simulator runs.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
from typing import Any

import boto3
from moto.events.models import EventsBackend, events_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.utilities.utils import CamelToUnderscoresWalker

from sim import clock
from sim import context as sim_context
from sim.aws.moto_seams import core
from sim.aws.moto_seams.core import Seam, register
from sim.aws.schedules import ScheduleError, parse

__all__ = ["fired"]

_ORIGINAL_PUT_RULE = EventsBackend.put_rule
_ORIGINAL_UPDATE_CONNECTION = EventsBackend.update_connection
_lock = threading.Lock()
_changed = clock.ClockEvent()
_created: dict[str, datetime.datetime] = {}  # rule ARN -> when its schedule started
_fired: list[dict[str, Any]] = []
_thread: threading.Thread | None = None


def fired() -> list[dict[str, Any]]:
    """Every scheduled firing so far: rule ARN, time, target, execution ARN or error."""
    with _lock:
        return [dict(f) for f in _fired]


def _put_rule(self: EventsBackend, name: str, description: str | None = None, event_bus_arn: str | None = None,
              event_pattern: str | None = None, role_arn: str | None = None, scheduled_expression: str | None = None,
              state: str | None = None, managed_by: str | None = None, tags: list[dict[str, str]] | None = None) -> Any:
    """Wraps `EventsBackend.put_rule`: a ScheduleExpression is validated as EventBridge does and the rule is
    scheduled from now (simulator clock)."""
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
        with _lock:
            _created[rule.arn] = clock.utcnow()
        _ensure_thread()
        _changed.set()
    return rule


def _ensure_thread() -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            # An actor: between waking at a rule's time and its StartExecution being in flight it is
            # working, so the virtual clock does not skip the next hours past a firing.
            _thread = clock.ActorThread(target=_run, daemon=True, name="eventbridge-scheduler")
            _thread.start()


def _rules() -> list[Any]:
    out = []
    for account in list(events_backends.keys()):
        for region in list(events_backends[account].keys()):
            for bus in list(events_backends[account][region].event_buses.values()):
                out += [r for r in list(bus.rules.values()) if r.scheduled_expression and r.state == "ENABLED"]
    return out


def _due(now: datetime.datetime) -> tuple[datetime.datetime | None, list[tuple[Any, datetime.datetime]]]:
    """The next firing time after the last one handled, and the rules due at or before `now`."""
    earliest, due = None, []
    for rule in _rules():
        with _lock:
            created = _created.setdefault(rule.arn, now)
            last = _created.get(rule.arn + "#last", created)
        at = parse(rule.scheduled_expression).next_after(last, created=created)
        if at <= now:
            due.append((rule, at))
        elif earliest is None or at < earliest:
            earliest = at
    return earliest, due


def _run() -> None:
    while core.running_hosts() > 0:
        _changed.clear()
        now = clock.utcnow()
        earliest, due = _due(now)
        for rule, at in due:
            with _lock:
                _created[rule.arn + "#last"] = at
            _fire(rule, at)
        if due:
            continue
        timeout = 0.5 if earliest is None else max(0.0, (earliest - clock.utcnow()).total_seconds())
        if earliest is None:
            clock.poll(_changed, timeout)
        else:
            clock.get().wait(_changed, timeout)


def _fire(rule: Any, at: datetime.datetime) -> None:
    region = rule.arn.split(":")[3]
    event = {"version": "0", "id": sim_context.current().ids.uuid("event"), "detail-type": "Scheduled Event", "source": "aws.events",
             "account": rule.created_by, "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
             "resources": [rule.arn], "detail": {}}
    client = boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}",
                          region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    for target in list(rule.targets):
        arn = target.get("Arn", "")
        record: dict[str, Any] = {"rule": rule.arn, "time": at.isoformat(), "target": arn}
        if ":states:" in arn and ":stateMachine:" in arn:
            try:
                record["execution_arn"] = client.start_execution(
                    stateMachineArn=arn, name=sim_context.current().ids.uuid("execution"), input=target.get("Input") or json.dumps(event))["executionArn"]
            except Exception as exc:  # EventBridge drops a failed delivery (no DLQ configured)
                record["error"] = f"{type(exc).__name__}: {exc}"
        else:
            record["error"] = "only Step Functions targets are delivered by the simulator"
        with _lock:
            _fired.append(record)


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
    [(EventsBackend, "put_rule", _put_rule), (EventsBackend, "update_connection", _update_connection)],
    [Seam(EventsBackend, "put_rule", ("self", "name", "description", "event_bus_arn", "event_pattern", "role_arn",
                                      "scheduled_expression", "state", "managed_by", "tags"), _put_rule.__doc__ or ""),
     Seam(EventsBackend, "update_connection", ("self", "name", "kwargs"), _update_connection.__doc__ or "")],
)
