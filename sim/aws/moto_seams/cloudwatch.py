"""CloudWatch metrics the services emit, put into moto's CloudWatch, and alarms evaluated on them.

moto stores what PutMetricData sends but no service emits anything and no alarm is ever evaluated.
Hooks here record, on the simulator's clock, the `AWS/Lambda` invocation metrics (every Invoke through the Lambda API: Step Functions
tasks and direct calls) and the `Glue` job metrics (every run's end) (`sfn_metrics` adds the `AWS/States` execution metrics), and evaluate the metric alarms of
the namespace/metric just written (`sim.aws.metrics.evaluate`). `evaluate_alarms()` re-evaluates all of
them at the current clock time (AWS does so every minute; the simulator does it when asked, so an idle
virtual clock is not woken once a minute). Limits: S3-triggered (asynchronous) invocations emit no
Lambda metrics; metric-math alarms are not evaluated.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.awslambda.models import LambdaBackend
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

from sim import clock
from sim.aws import metrics
from sim.aws.glue import GlueJob, GlueJobRun
from sim.aws.moto_seams import glue as glue_seam
from sim.aws.moto_seams.core import Seam, register

__all__ = ["aware", "evaluate_alarms", "record"]

_ORIGINAL_INVOKE = LambdaBackend.invoke
_lock = threading.Lock()


def _backend(account_id: str, region: str) -> CloudWatchBackend:
    return cloudwatch_backends[account_id][region]


def record(account_id: str, region: str, data: list[metrics.Datum]) -> None:
    """Put `data` into moto's CloudWatch (grouped by namespace) and re-evaluate the alarms they feed."""
    if not data:
        return
    backend = _backend(account_id, region)
    with _lock:
        for namespace in {d.namespace for d in data}:
            backend.put_metric_data(namespace, [d.as_put() for d in data if d.namespace == namespace])
    _evaluate(backend, {(d.namespace, d.name) for d in data})


def evaluate_alarms(account_id: str = "123456789012", region: str = "us-east-1") -> None:
    """Evaluate every metric alarm of the account/region now (simulator clock)."""
    _evaluate(_backend(account_id, region), None)


def _stored(backend: CloudWatchBackend, namespace: str, name: str) -> list[metrics.Datum]:
    out = []
    for datum in list(backend.metric_data):
        if datum.namespace != namespace or datum.name != name or not hasattr(datum, "value"):
            continue
        out.append(metrics.Datum(namespace, name, float(datum.value), datum.unit or "None",
                                 aware(datum.timestamp), tuple((d.name, d.value) for d in datum.dimensions)))
    return out


def aware(value: Any) -> Any:
    import datetime

    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _evaluate(backend: CloudWatchBackend, touched: set[tuple[str, str]] | None) -> None:
    now = clock.utcnow()
    for alarm in list(backend.alarms.values()):
        if not alarm.metric_name or alarm.metric_data_queries:
            continue
        if touched is not None and (alarm.namespace, alarm.metric_name) not in touched:
            continue
        spec = metrics.AlarmSpec(
            name=alarm.name, namespace=alarm.namespace, metric_name=alarm.metric_name,
            dimensions=tuple((d.name, d.value) for d in alarm.dimensions), statistic=alarm.statistic or "Average",
            period_s=int(alarm.period or 60), evaluation_periods=int(alarm.evaluation_periods or 1),
            threshold=float(alarm.threshold), comparison=alarm.comparison_operator,
            datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
            treat_missing_data=alarm.treat_missing_data or "missing", state=alarm.state_value)
        verdict = metrics.evaluate(spec, _stored(backend, alarm.namespace, alarm.metric_name), now)
        if verdict is not None and verdict.state != alarm.state_value:
            backend.set_alarm_state(alarm.name, verdict.reason, "{}", verdict.state)


# -- hooks -------------------------------------------------------------------------------------------

def _lambda_backend_invoke(self: LambdaBackend, function_name: str, qualifier: str | None, body: Any,
                           headers: Any, response_headers: Any) -> Any:
    """Wraps `LambdaBackend.invoke`: Invocations, Errors, Duration and Throttles per function and in
    aggregate, for synchronous invocations (an Event invocation is counted when accepted)."""
    started = clock.now()
    throttled = errored = False
    try:
        return _ORIGINAL_INVOKE(self, function_name, qualifier, body, headers, response_headers)
    except Exception as exc:
        throttled = "TooManyRequests" in type(exc).__name__
        errored = not throttled
        raise
    finally:
        try:
            errored = errored or bool(response_headers.get("x-amz-function-error"))
            name = function_name.rsplit(":function:", 1)[-1].split(":")[0]
            record(self.account_id, self.region_name,
                   metrics.lambda_metrics(name, clock.utcnow(), duration_ms=(clock.now() - started) * 1000,
                                          errored=errored, throttled=throttled))
        except Exception:  # metrics never break an invocation
            pass


def _glue_run_ended(run: GlueJobRun, job: GlueJob) -> None:
    record(job.account_id, job.region,
           metrics.glue_run_metrics(job.name, run.job_run_id, run.status, run.elapsed_ms, clock.utcnow()))


glue_seam.add_listener(_glue_run_ended)

register(
    [
        (LambdaBackend, "invoke", _lambda_backend_invoke),
    ],
    [
        Seam(LambdaBackend, "invoke", ("self", "function_name", "qualifier", "body", "headers", "response_headers"),
             _lambda_backend_invoke.__doc__ or "",
             proved_by="tests/glue_lab/test_glue_lab_paths.py::test_execution_and_lambda_metrics_reach_cloudwatch"),
        Seam(CloudWatchBackend, "put_metric_data", ("self", "namespace", "metric_data"), "metrics are put here",
             proved_by="tests/glue_lab/test_glue_lab_paths.py::test_execution_and_lambda_metrics_reach_cloudwatch"),
        Seam(CloudWatchBackend, "set_alarm_state", ("self", "alarm_name", "reason", "reason_data", "state_value"),
             "alarm evaluation sets states here",
             proved_by="tests/glue_lab/test_glue_lab_paths.py::test_failed_execution_puts_the_executions_failed_and_lambda_errors_alarms_in_alarm"),
    ],
)
