"""The `AWS/States` execution metrics: ExecutionsStarted when an execution starts, its outcome metric and
ExecutionTime when it ends, put through `sim.aws.moto_seams.cloudwatch` (which evaluates the alarms)."""

from __future__ import annotations

from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from sim import clock
from sim.aws import metrics
from sim.aws.moto_seams import cloudwatch
from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ORIGINAL_START = Execution.start
_ORIGINAL_REFLECT = BaseExecutionWorkerCommunication._reflect_execution_status


def _execution_start(self: Execution) -> None:
    """Wraps `Execution.start`: ExecutionsStarted for the state machine (Step Functions' metric)."""
    _ORIGINAL_START(self)
    try:
        cloudwatch.record(self.account_id, self.region_name, metrics.execution_started(self.state_machine_arn, clock.utcnow()))
    except Exception:  # metrics never break an execution
        pass


def _reflect_execution_status(self: BaseExecutionWorkerCommunication) -> None:
    """Wraps `BaseExecutionWorkerCommunication._reflect_execution_status`: when an execution ends, its
    outcome metric (ExecutionsSucceeded/Failed/Aborted/TimedOut) and ExecutionTime."""
    _ORIGINAL_REFLECT(self)
    try:
        execution = self.execution
        status = str(getattr(execution.exec_status, "value", execution.exec_status))
        started = cloudwatch.aware(execution.start_date)
        stopped = clock.utcnow()
        cloudwatch.record(execution.account_id, execution.region_name,
               metrics.execution_metrics(execution.state_machine_arn, status, started, stopped))
    except Exception:  # metrics never break an execution
        pass


register(
    [
        (Execution, "start", _execution_start),
        (BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_execution_status),
    ],
    [
        Seam(Execution, "start", ("self",), _execution_start.__doc__ or "",
             proved_by="tests/glue_lab/test_glue_lab_paths.py::test_execution_and_lambda_metrics_reach_cloudwatch"),
        Seam(BaseExecutionWorkerCommunication, "_reflect_execution_status", ("self",),
             _reflect_execution_status.__doc__ or "",
             proved_by="tests/glue_lab/test_glue_lab_paths.py::test_failed_execution_puts_the_executions_failed_and_lambda_errors_alarms_in_alarm"),
    ],
)
