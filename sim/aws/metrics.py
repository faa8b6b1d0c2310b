"""The CloudWatch metrics AWS services emit, and CloudWatch's alarm evaluation, as plain data and functions.

What is emitted (namespaces, names, dimensions and units as the services' "Metrics" pages list them):
- `AWS/States`, dimension `StateMachineArn`: ExecutionsStarted, ExecutionsSucceeded, ExecutionsFailed,
  ExecutionsAborted, ExecutionsTimedOut (Count) and ExecutionTime (Milliseconds).
- `AWS/Lambda`, dimension `FunctionName` and again without dimensions (the account-wide aggregate):
  Invocations, Errors, Throttles (Count), Duration (Milliseconds).
- `Glue` job metrics, dimensions `JobName`, `JobRunId` (the run id, and `ALL`), `Type`:
  glue.driver.aggregate.elapsedTime (Milliseconds, Type=count) and
  glue.driver.aggregate.numFailedTasks (Count, Type=count; 1 for a FAILED/TIMEOUT run — an approximation:
  stepbricks does not count Spark tasks).

Alarm evaluation follows "Evaluating an alarm" in the CloudWatch user guide for single-metric alarms:
the last `EvaluationPeriods` periods ending now are aggregated with the alarm's statistic; the alarm is
ALARM when at least `DatapointsToAlarm` (default: EvaluationPeriods) of them breach, OK when none does,
and missing periods follow `TreatMissingData` (missing: ignored, all missing -> INSUFFICIENT_DATA;
notBreaching/breaching; ignore: keep the state). Metric-math alarms are left alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["AlarmSpec", "Datum", "evaluate", "execution_metrics", "glue_run_metrics", "lambda_metrics"]

_COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
_EXECUTION_STATUS_METRIC = {"SUCCEEDED": "ExecutionsSucceeded", "FAILED": "ExecutionsFailed",
                            "ABORTED": "ExecutionsAborted", "TIMED_OUT": "ExecutionsTimedOut"}


@dataclass(frozen=True)
class Datum:
    namespace: str
    name: str
    value: float
    unit: str
    timestamp: datetime.datetime
    dimensions: tuple[tuple[str, str], ...] = ()

    def as_put(self) -> dict[str, object]:
        """The MetricData member PutMetricData takes (moto's backend keeps naive UTC timestamps)."""
        naive = self.timestamp.astimezone(datetime.UTC).replace(tzinfo=None) if self.timestamp.tzinfo else self.timestamp
        return {"MetricName": self.name, "Value": self.value, "Unit": self.unit, "Timestamp": naive,
                "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions]}


def execution_started(state_machine_arn: str, at: datetime.datetime) -> list[Datum]:
    return [Datum("AWS/States", "ExecutionsStarted", 1.0, "Count", at, (("StateMachineArn", state_machine_arn),))]


def execution_metrics(state_machine_arn: str, status: str, started: datetime.datetime,
                      stopped: datetime.datetime) -> list[Datum]:
    """What Step Functions emits when an execution ends with `status` (DescribeExecution's values)."""
    dims = (("StateMachineArn", state_machine_arn),)
    out = [Datum("AWS/States", "ExecutionTime", max(0.0, (stopped - started).total_seconds() * 1000),
                 "Milliseconds", stopped, dims)]
    if status in _EXECUTION_STATUS_METRIC:
        out.append(Datum("AWS/States", _EXECUTION_STATUS_METRIC[status], 1.0, "Count", stopped, dims))
    return out


def lambda_metrics(function_name: str, at: datetime.datetime, *, duration_ms: float, errored: bool,
                   throttled: bool) -> list[Datum]:
    """One invocation's metrics, per function and account-wide (no dimensions), as Lambda emits them."""
    out: list[Datum] = []
    for dims in ((("FunctionName", function_name),), ()):
        if throttled:
            out.append(Datum("AWS/Lambda", "Throttles", 1.0, "Count", at, dims))
            continue
        out += [Datum("AWS/Lambda", "Invocations", 1.0, "Count", at, dims),
                Datum("AWS/Lambda", "Errors", 1.0 if errored else 0.0, "Count", at, dims),
                Datum("AWS/Lambda", "Duration", duration_ms, "Milliseconds", at, dims)]
    return out


def glue_run_metrics(job_name: str, run_id: str, status: str, elapsed_ms: float,
                     at: datetime.datetime) -> list[Datum]:
    out: list[Datum] = []
    for run in (run_id, "ALL"):
        dims = (("JobName", job_name), ("JobRunId", run), ("Type", "count"))
        out += [Datum("Glue", "glue.driver.aggregate.elapsedTime", elapsed_ms, "Milliseconds", at, dims),
                Datum("Glue", "glue.driver.aggregate.numFailedTasks",
                      1.0 if status in ("FAILED", "TIMEOUT", "ERROR") else 0.0, "Count", at, dims)]
    return out


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period_s: int
    evaluation_periods: int
    threshold: float
    comparison: str
    datapoints_to_alarm: int | None = None
    treat_missing_data: str = "missing"
    state: str = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str
    breaching: list[float] = field(default_factory=list)


def _stat(values: Sequence[float], statistic: str) -> float:
    if statistic == "Sum":
        return sum(values)
    if statistic == "Average":
        return sum(values) / len(values)
    if statistic == "Maximum":
        return max(values)
    if statistic == "Minimum":
        return min(values)
    if statistic == "SampleCount":
        return float(len(values))
    raise ValueError(f"unsupported alarm statistic {statistic!r}")


def evaluate(alarm: AlarmSpec, data: Iterable[Datum], now: datetime.datetime) -> Verdict | None:
    """The alarm's state now, or None to keep the current state (e.g. TreatMissingData=ignore, nothing seen)."""
    if alarm.comparison not in _COMPARE:
        return None
    wanted = set(alarm.dimensions)
    points = [d for d in data if d.namespace == alarm.namespace and d.name == alarm.metric_name
              and set(d.dimensions) == wanted]
    periods: list[float | None] = []
    for index in range(alarm.evaluation_periods):
        end = now - datetime.timedelta(seconds=alarm.period_s * index)
        start = end - datetime.timedelta(seconds=alarm.period_s)
        values = [d.value for d in points if start < d.timestamp <= end]
        periods.append(_stat(values, alarm.statistic) if values else None)
    compare = _COMPARE[alarm.comparison]
    needed = alarm.datapoints_to_alarm or alarm.evaluation_periods
    seen = [v for v in periods if v is not None]
    breaching = [v for v in seen if compare(v, alarm.threshold)]
    missing = len(periods) - len(seen)
    breaching_count = len(breaching) + (missing if alarm.treat_missing_data == "breaching" else 0)
    if not seen and alarm.treat_missing_data in ("missing", "ignore"):
        return None if alarm.treat_missing_data == "ignore" else Verdict("INSUFFICIENT_DATA", "no datapoints")
    described = ", ".join("missing" if v is None else f"{v:g}" for v in periods)
    if breaching_count >= needed:
        return Verdict("ALARM", f"Threshold Crossed: {breaching_count} out of the last {len(periods)} datapoints "
                                f"[{described}] were {alarm.comparison} {alarm.threshold:g}", breaching)
    return Verdict("OK", f"Threshold Crossed: no {needed} of the last {len(periods)} datapoints [{described}] were "
                         f"{alarm.comparison} {alarm.threshold:g}")
