"""Execution logging to CloudWatch Logs, as a state machine's `loggingConfiguration` asks.

AWS delivers one log event per history event the level admits (ALL: every event; ERROR: failures;
FATAL: execution failed/aborted/timed out) to the configured log group, each message a JSON object
`{"id", "type", "details", "previous_event_id", "event_timestamp", "execution_arn"}` with input and
output left out unless `includeExecutionData` ("Logging Step Functions using CloudWatch Logs",
"Log levels"). moto's interpreter has the level filter and the event shape, but its executions never
open a logging session and its publisher builds CloudWatch events it cannot store. Registered with
`core.register` at import.
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.logs.models import logs_backends
from moto.stepfunctions.parser.asl.eval.event.logging import (
    CloudWatchLoggingConfiguration,
    CloudWatchLoggingSession,
    HistoryLog,
)
from moto.stepfunctions.parser.backend.execution import Execution

from sim import clock
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_api import json_text
from sim.aws.moto_seams.sfn_express_arns import name_express_execution

__all__ = ["log_message", "log_stream_name"]

_ORIGINAL_EXECUTION_INIT = Execution.__init__


def log_stream_name(machine_name: str, started: datetime.datetime, execution_name: str) -> str:
    """`states/<machine>/<yyyy-mm-dd-HH-MM>/<execution>`: AWS's stream layout (no ':' allowed in stream names)."""
    return f"states/{machine_name}/{started.astimezone(datetime.UTC):%Y-%m-%d-%H-%M}/{execution_name}"


def _millis(timestamp: Any) -> int:
    """Epoch milliseconds of a history timestamp (a datetime, an ISO string, or a number)."""
    if isinstance(timestamp, datetime.datetime):
        return int(timestamp.timestamp() * 1000)
    if isinstance(timestamp, str) and not timestamp.isdigit():
        return int(datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
    return int(timestamp)


def log_message(history_log: HistoryLog) -> str:
    """One log event's message, with AWS's keys and order; event_timestamp is epoch milliseconds as text."""
    millis = _millis(history_log["event_timestamp"])
    message: dict[str, Any] = {"id": history_log["id"], "type": str(getattr(history_log["type"], "value",
                                                                          history_log["type"]))}
    if "details" in history_log:
        message["details"] = history_log["details"]
    message.update({"previous_event_id": history_log["previous_event_id"], "event_timestamp": str(millis),
                    "execution_arn": history_log["execution_arn"]})
    return json_text(message)


def _execution_init(self: Execution, *args: Any, **kwargs: Any) -> None:
    """Wraps the interpreter's `Execution.__init__`.

    Restores: an execution of a state machine whose loggingConfiguration has a level other than OFF
    and a CloudWatch Logs destination logs to it (moto's StartExecution passed no logging session); an
    Express execution is named `arn:…:express:<machine>:<name>:<uuid>` as on AWS (`sfn_express_arns`;
    moto gave it a Standard execution's ARN).
    """
    name_express_execution(kwargs)
    if kwargs.get("cloud_watch_logging_session") is None and "state_machine" in kwargs:
        machine = kwargs["state_machine"]
        settings = getattr(machine, "loggingConfiguration", None) or {}
        configuration = CloudWatchLoggingConfiguration.from_logging_configuration(
            state_machine_arn=machine.arn, logging_configuration={"includeExecutionData": False, **settings})
        if configuration is not None:
            configuration.log_stream_name = log_stream_name(
                machine.name, kwargs.get("start_date") or clock.utcnow(),
                kwargs.get("name") or "execution")
            kwargs["cloud_watch_logging_session"] = CloudWatchLoggingSession(
                execution_arn=kwargs.get("exec_arn", ""), configuration=configuration)
    _ORIGINAL_EXECUTION_INIT(self, *args, **kwargs)


def _publish_history_log(self: CloudWatchLoggingSession, history_log: HistoryLog) -> None:
    """Replaces `CloudWatchLoggingSession.publish_history_log` (moto built `LogEvent`s from the wrong keys).

    Restores: each admitted history event arrives in the log group as AWS's JSON message, readable
    with `logs filter-log-events`; a missing log group drops the event, as AWS cannot deliver it.
    """
    configuration = self.configuration
    backend = logs_backends[configuration.log_account_id][configuration.log_region]
    group = backend.groups.get(configuration.log_group_name)
    if group is None:
        return
    if configuration.log_stream_name not in group.streams:
        backend.create_log_stream(configuration.log_group_name, configuration.log_stream_name)
    millis = _millis(history_log["event_timestamp"])
    backend.put_log_events(configuration.log_group_name, configuration.log_stream_name,
                           [{"timestamp": millis, "message": log_message(history_log)}])


register(
    [
        (Execution, "__init__", _execution_init),
        (CloudWatchLoggingSession, "publish_history_log", _publish_history_log),
    ],
    [
        Seam(Execution, "__init__", ("self", "name", "sm_type", "role_arn", "exec_arn", "account_id", "region_name",
                                     "state_machine", "start_date", "cloud_watch_logging_session", "activity_store",
                                     "input_data", "trace_header"),
             _execution_init.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_logging_level_all_delivers_every_history_event_in_aws_shape"),
        Seam(CloudWatchLoggingSession, "publish_history_log", ("self", "history_log"),
             _publish_history_log.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_sync_and_logging.py::test_logging_level_error_delivers_failures_only_and_hides_data_unless_included"),
    ],
)
