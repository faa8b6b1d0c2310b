"""Map Runs of a Distributed Map (DescribeMapRun, ListMapRuns, UpdateMapRun) as AWS reports them.

moto keeps a map run record per Distributed Map (its DescribeMapRun/ListMapRuns/UpdateMapRun read it),
but its counts, its failure threshold and its errors differ from AWS's. The spec is the API reference
(DescribeMapRun's `itemCounts` / `executionCounts`, UpdateMapRun, `MapRunFailedEventDetails`) and the
developer guide's "Setting failure thresholds for Distributed Map states"; LocalStack's TestState code,
recorded against AWS, gives the threshold error and its cause (`States.ExceedToleratedFailureThreshold`,
"The specified tolerated failure threshold was exceeded").
Known gaps: child executions are not listed (`ListExecutions(mapRunArn=...)`), an `UpdateMapRun`
`maxConcurrency` does not change a running map run's concurrency, and moto's parser refuses an integer
`ToleratedFailurePercentage` (write `5.0`).
"""

from __future__ import annotations

import logging
from typing import Any

from moto.stepfunctions.exceptions import ResourceNotFound, ValidationException
from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record import (
    MapRunRecord,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from sim.aws.moto_seams.core import Seam, register

log = logging.getLogger(__name__)
EXCEEDED = "The specified tolerated failure threshold was exceeded"


def _eval_job(self: DistributedItemProcessorWorker, env: Any, job: Any) -> None:
    """Replaces `DistributedItemProcessorWorker._eval_job` (the same evaluation of one item's child run).

    Restores: every child execution that ends leaves `running` (moto decremented it only on success, so a
    finished map run with a failed item still reported one running execution), and a child that failed,
    timed out or was aborted counts as such in both `itemCounts` and `executionCounts`.
    """
    record: MapRunRecord = self._map_run_record
    for counter in (record.item_counter, record.execution_counter):
        counter.total.count()
        counter.running.count()
    outcome, job_output = "failed", None
    try:
        env.states.context_object.context_object_data["Map"] = MapData(
            Item=ItemData(Index=job.job_index, Value=job.job_input))
        env.states.reset(job.job_input)
        env.stack.append(env.states.get_input())
        self._eval_input(env_frame=env)
        job.job_program.eval(env)
        end = env.program_state()
        if isinstance(end, ProgramError):
            outcome = "failed"
        elif isinstance(end, ProgramStopped):
            outcome = "aborted"
        else:
            outcome, job_output = "succeeded", env.states.get_input()
    except EvalTimeoutError:
        outcome = "timed_out"
    except Exception as exc:
        log.debug("map run item %s failed: %s", job.job_index, exc)
        outcome = "failed"
    finally:
        for counter in (record.item_counter, record.execution_counter):
            counter.running.offset(-1)
            getattr(counter, outcome).count()
            if outcome == "succeeded":
                counter.results_written.count()
        job.job_output = job_output


def threshold_exceeded(failed: int, total: int, count: int, percentage: float) -> bool:
    """Whether `failed` of `total` items exceed the map run's tolerance: a threshold left at 0 is not set;
    with neither set none may fail; with one or both set the run fails when it exceeds either."""
    checks = []
    if count:
        checks.append(failed > count)
    if percentage:
        checks.append(total > 0 and failed * 100.0 / total > percentage)
    return any(checks) if checks else failed > 0


_ORIGINAL_MAP_RUN = DistributedIterationComponent._map_run


def _map_run(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
    """Wraps `DistributedIterationComponent._map_run`.

    Restores: a map run whose failed, timed-out or aborted items exceed `ToleratedFailureCount` /
    `ToleratedFailurePercentage` (as UpdateMapRun last set them) fails: MapRunFailed and the Map state's
    failure carry `States.ExceedToleratedFailureThreshold` (moto let the Map succeed with `null` outputs).
    """
    _ORIGINAL_MAP_RUN(self, env, eval_input)
    record: MapRunRecord = eval_input.map_run_record
    items = record.item_counter
    failed = items.failed.get() + items.timed_out.get() + items.aborted.get()
    if threshold_exceeded(failed, items.total.get(), record.tolerated_failure_count,
                          record.tolerated_failure_percentage):  # fmt: skip
        env.stack.pop()
        error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
        raise FailureEventException(FailureEvent(
            env=env, error_name=error, event_type=HistoryEventType.MapRunFailed,
            event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
                error=error.error_name, cause=EXCEEDED))))  # fmt: skip


def _record(backend: StepFunctionsParserBackend, map_run_arn: str) -> MapRunRecord:
    for execution in backend._get_executions():
        worker = getattr(execution, "exec_worker", None)
        if worker is not None and worker.env is not None:
            record = worker.env.map_run_record_pool_manager.get(map_run_arn)
            if record is not None:
                return record
    raise ResourceNotFound(map_run_arn)


def _describe_map_run(self: StepFunctionsParserBackend, map_run_arn: str) -> dict[str, Any]:
    """Replaces `StepFunctionsParserBackend.describe_map_run`.

    Restores: an unknown map run is AWS's 400 ResourceNotFound (moto built the error without its message
    and answered 500)."""
    return _record(self, map_run_arn).describe()


def _limit(name: str, value: Any, low: float, high: float | None = None) -> None:
    """AWS's request validation message (the Coral form; the exact wording is a guess)."""
    if value is None:
        return
    if value < low:
        raise ValidationException(f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                                  f"constraint: Member must have value greater than or equal to {low:g}")
    if high is not None and value > high:
        raise ValidationException(f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                                  f"constraint: Member must have value less than or equal to {high:g}")


def _update_map_run(self: StepFunctionsParserBackend, map_run_arn: str, max_concurrency: int | None,
                    tolerated_failure_count: Any, tolerated_failure_percentage: Any) -> None:  # fmt: skip
    """Replaces `StepFunctionsParserBackend.update_map_run`.

    Restores: the API reference's bounds (maxConcurrency and toleratedFailureCount >= 0,
    toleratedFailurePercentage 0-100) answered with ValidationException, and an unknown map run with
    ResourceNotFound (moto accepted any value and answered 500 for an unknown run)."""
    count = None if tolerated_failure_count is None else int(tolerated_failure_count)
    percentage = None if tolerated_failure_percentage is None else float(tolerated_failure_percentage)
    _limit("maxConcurrency", max_concurrency, 0)
    _limit("toleratedFailureCount", count, 0)
    _limit("toleratedFailurePercentage", percentage, 0, 100)
    _record(self, map_run_arn).update(max_concurrency=max_concurrency, tolerated_failure_count=count,
                                      tolerated_failure_percentage=percentage)  # fmt: skip


register(
    [
        (DistributedItemProcessorWorker, "_eval_job", _eval_job),
        (DistributedIterationComponent, "_map_run", _map_run),
        (StepFunctionsParserBackend, "describe_map_run", _describe_map_run),
        (StepFunctionsParserBackend, "update_map_run", _update_map_run),
    ],
    [
        Seam(DistributedItemProcessorWorker, "_eval_job", ("self", "env", "job"), _eval_job.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_a_map_run_is_listed_under_its_execution_and_counts_its_items"),
        Seam(DistributedIterationComponent, "_map_run", ("self", "env", "eval_input"), _map_run.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_a_failed_item_beyond_the_tolerance_fails_the_map_run_and_the_state"),
        Seam(StepFunctionsParserBackend, "describe_map_run", ("self", "map_run_arn"),
             _describe_map_run.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_an_unknown_map_run_is_resource_not_found"),
        Seam(StepFunctionsParserBackend, "update_map_run", ("self", "map_run_arn", "max_concurrency",
             "tolerated_failure_count", "tolerated_failure_percentage"), _update_map_run.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_update_map_run_refuses_values_out_of_the_api_bounds"),
    ],
)
