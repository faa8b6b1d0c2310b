"""Gathers a run's report data from the endpoints (any backend) and writes the HTML file."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.clients import aws_client
from harness.follow import poll_history, trace_from_history
from harness.map_results import map_results
from harness.report import ReportData, write_report
from harness.runner import RunResult, databricks_runs_of, task_outputs


def secrets_of(env: Mapping[str, str]) -> list[str]:
    """Values that must never appear in a report."""
    return [v for k, v in env.items() if v and any(w in k for w in ("TOKEN", "SECRET", "PASSWORD"))]


def report_for_result(
    env: Mapping[str, str],
    result: RunResult,
    path: Path,
    *,
    faults: list[Mapping[str, Any]] | None = None,
    session_coverage: Any = None,
) -> Path:
    sfn = aws_client("stepfunctions", env)
    described = sfn.describe_execution(executionArn=result.execution_arn)
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=described["stateMachineArn"])["definition"])
    data = ReportData(
        title=described["stateMachineArn"].rsplit(":", 1)[-1],
        definition=definition,
        trace=result.trace,
        wall_seconds=result.wall_seconds,
        input_uri=result.input_uri,
        databricks_runs=result.databricks_runs,
        run_outputs=result.run_outputs,
        faults=list(faults or []),
        notifications=result.notifications,
        map_results=result.map_results,
        etl=_dict(result.step_output("etl")),
        training=_dict(result.step_output("train")),
        evaluation=_dict(result.step_output("evaluate")),
        session_coverage=session_coverage,
        metrics=state_machine_metrics(env, described["stateMachineArn"]),
        secrets=secrets_of(env),
    )
    return write_report(data, path)


STATES_METRICS = ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionTime")


def state_machine_metrics(env: Mapping[str, str], state_machine_arn: str) -> list[dict[str, Any]]:
    """The AWS/States metrics of the state machine (the simulator emits them as AWS does), summed."""
    from datetime import UTC, datetime, timedelta

    from botocore.exceptions import BotoCoreError, ClientError

    cloudwatch = aws_client("cloudwatch", env)
    end = datetime.now(UTC) + timedelta(days=2)  # the simulator's clock may run ahead of the wall clock
    rows = []
    for name in STATES_METRICS:
        try:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/States", MetricName=name, StartTime=end - timedelta(days=16), EndTime=end,
                Period=86400, Statistics=["Sum"],
                Dimensions=[{"Name": "StateMachineArn", "Value": state_machine_arn}],
            )["Datapoints"]
        except (BotoCoreError, ClientError):
            return rows
        if points:
            rows.append({"namespace": "AWS/States", "name": name, "value": sum(p["Sum"] for p in points)})
    return rows


def report_for_execution(
    env: Mapping[str, str],
    execution_arn: str,
    path: Path,
    *,
    notifications: Callable[[], list[dict]] | None = None,
) -> Path:
    """Rebuild the report of any past execution from its history (`stepbricks report EXECUTION`)."""
    sfn = aws_client("stepfunctions", env)
    trace = trace_from_history(execution_arn, poll_history(sfn, execution_arn))
    described = sfn.describe_execution(executionArn=execution_arn)
    trace.status = described["status"]
    data = json.loads(described.get("input") or "{}")
    result = RunResult(
        variant="",
        input_uri=f"s3://{data.get('bucket')}/{data.get('key')}" if data.get("key") else "",
        execution_arn=execution_arn,
        trace=trace,
    )
    result.map_results = map_results(env, trace)
    if env.get("DATABRICKS_HOST"):
        result.databricks_runs = databricks_runs_of(env, None, trace, result.map_results)
        result.run_outputs = task_outputs(env, result.databricks_runs)
    if notifications is not None:
        result.notifications = [n for n in notifications() if execution_arn in n.get("message", "")]
    result.wall_seconds = None  # unknown after the fact: only the run itself measured it
    return report_for_result(env, result, path)


def _dict(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None
