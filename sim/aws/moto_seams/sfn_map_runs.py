"""Map Runs of a Distributed Map (DescribeMapRun, ListMapRuns, UpdateMapRun) as AWS reports them.

moto keeps a map run record per Distributed Map (its DescribeMapRun/ListMapRuns/UpdateMapRun read it),
but its counts, its failure threshold and its errors differ from AWS's. The spec is the API reference
(DescribeMapRun's `itemCounts` / `executionCounts`, UpdateMapRun, `MapRunFailedEventDetails`) and the
developer guide's "Setting failure thresholds for Distributed Map states"; LocalStack's TestState code,
recorded against AWS, gives the threshold error and its cause (`States.ExceedToleratedFailureThreshold`,
"The specified tolerated failure threshold was exceeded").
Map redrive follows the developer guide's "Redriving Map Runs": a redriven execution that re-enters a
Distributed Map whose map run failed redrives that map run, re-running only the children that did not
succeed (`sfn_redrive` marks it, `_eval_body` here picks it up). Each child is kept as a
`sim.aws.map_items.Child` on the record (`MapRun`) for that and for ResultWriter (`sfn_map_io`).
Child executions are listed under their map run (`ListExecutions(mapRunArn=...)`). Known gaps: they
are not described (DescribeExecution), an
`UpdateMapRun` `maxConcurrency` does not change a running map run's concurrency.
"""

from __future__ import annotations

import copy
import datetime
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.stepfunctions.exceptions import ResourceNotFound, ValidationException
from moto.stepfunctions.parser.api import (
    HistoryEventType,
    MapRunFailedEventDetails,
    MapRunRedrivenEventDetails,
    MapRunStatus,
)
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
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import Job, JobPool
from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import (
    DEFAULT_MAX_CONCURRENCY_VALUE,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from sim import clock
from sim import context as sim_context
from sim.aws import map_items
from sim.aws.map_items import Child
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_map_io import batch_settings, write_results
from sim.aws.moto_seams.sfn_versions import MAP_RUN_EXECUTIONS

log = logging.getLogger(__name__)
EXCEEDED = "The specified tolerated failure threshold was exceeded"


@dataclass
class MapRun:
    """What stepbricks keeps beside moto's MapRunRecord: the state it belongs to, its child executions (by item
    index; a redrive re-runs the unsuccessful ones), redrive count/date and the items waiting to be redriven."""

    state_name: str
    children: dict[int, Child] = field(default_factory=dict)
    redrive_count: int = 0
    redrive_date: str | None = None
    pending_redrive: int = 0
    batched: bool = False  # with ItemBatcher a child carries several items: itemCounts count items
    lock: threading.Lock = field(default_factory=threading.Lock)

    def counters(self, record: MapRunRecord, value: Any) -> list[tuple[Any, int]]:
        """(counter, weight): itemCounts move by the child's items, executionCounts by one."""
        items = len(value.get("Items", [])) if self.batched and isinstance(value, dict) else 1
        return [(record.item_counter, items), (record.execution_counter, 1)]


def map_run_of(record: MapRunRecord, state_name: str = "") -> MapRun:
    found = getattr(record, "sb_map_run", None)
    if found is None:
        found = record.sb_map_run = MapRun(state_name=state_name)
    return found


def _now() -> str:
    return datetime.datetime.fromtimestamp(clock.now(), tz=datetime.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


_COUNTER = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "timed_out", "ABORTED": "aborted"}


def _eval_job(self: DistributedItemProcessorWorker, env: Any, job: Any) -> None:
    """Replaces `DistributedItemProcessorWorker._eval_job` (the same evaluation of one item's child run).

    Restores: every child execution that ends leaves `running` (moto decremented it only on success, so a
    finished map run with a failed item still reported one running execution), and a child that failed,
    timed out or was aborted counts as such in both `itemCounts` and `executionCounts`. Each child is recorded
    (ARN, input, output or error, dates) for ResultWriter and Map redrive; a redriven child counts once.
    """
    record: MapRunRecord = self._map_run_record
    run = map_run_of(record)
    child = run.children[job.job_index]
    with run.lock:
        redriven = child.status != "PENDING"
        for counter, weight in run.counters(record, job.job_input):
            counter.running.count(weight)
            if not redriven:
                counter.pending.offset(-weight)
        if redriven:
            run.pending_redrive -= run.counters(record, job.job_input)[0][1]
            child.redrive_count += 1
        child.status, child.start, child.stop, child.error, child.cause = "RUNNING", _now(), None, None, None
    outcome, job_output = "FAILED", None
    try:
        env.states.context_object.context_object_data["Map"] = MapData(
            Item=ItemData(Index=job.job_index, Value=job.job_input))
        env.states.reset(job.job_input)
        env.stack.append(env.states.get_input())
        self._eval_input(env_frame=env)
        child.input = env.states.get_input()
        job.job_program.eval(env)
        end = env.program_state()
        if isinstance(end, ProgramError):
            outcome = "FAILED"
            child.error, child.cause = (end.error or {}).get("error"), (end.error or {}).get("cause")
        elif isinstance(end, ProgramStopped):
            outcome = "ABORTED"
        else:
            outcome, job_output = "SUCCEEDED", env.states.get_input()
    except EvalTimeoutError:
        outcome, child.error = "TIMED_OUT", "States.Timeout"
    except Exception as exc:
        log.debug("map run item %s failed: %s", job.job_index, exc)
        outcome = "FAILED"
    finally:
        with run.lock:
            child.status, child.output, child.stop = outcome, job_output, _now()
            for counter, weight in run.counters(record, job.job_input):
                counter.running.offset(-weight)
                getattr(counter, _COUNTER[outcome]).count(weight)
                if outcome == "SUCCEEDED":
                    counter.results_written.count(weight)
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


class _IndexedJobPool(JobPool):
    """moto's JobPool over chosen items, keeping each item's index in the map run (a redrive runs only some)."""

    def __init__(self, job_program: Any, jobs: list[tuple[int, Any]]):
        super().__init__(job_program=job_program, job_inputs=[])
        self._jobs_number = len(jobs)
        self._open_jobs[:] = [Job(job_index=i, job_program=job_program, job_input=v) for i, v in reversed(jobs)]
        if not jobs:
            self._termination_event.set()


def _children_for(record: MapRunRecord, run: MapRun, inputs: list[Any]) -> list[tuple[int, Any]]:
    """The jobs to run now: every item on a first run; on a redrive the ones that did not succeed, whose
    counts move from failed/timed out/aborted to pendingRedrive."""
    with run.lock:
        if not run.children:
            base = record.map_state_machine_arn
            for index, value in enumerate(inputs):
                name = sim_context.current().ids.uuid("map-child")
                run.children[index] = Child(index=index, name=name, input=value, source=value, state_machine_arn=base,
                                            arn=base.replace(":stateMachine:", ":execution:", 1) + ":" + name)
            for value in inputs:
                for counter, weight in run.counters(record, value):
                    counter.total.count(weight)
                    counter.pending.count(weight)
            return list(enumerate(inputs))
        jobs = []
        for index, child in sorted(run.children.items()):
            if child.status == "SUCCEEDED":
                continue
            if child.status in _COUNTER:
                for counter, weight in run.counters(record, child.source):
                    getattr(counter, _COUNTER[child.status]).offset(-weight)
                run.pending_redrive += run.counters(record, child.source)[0][1]
            jobs.append((index, child.source))  # the same input again, as AWS redrives a child
        return jobs


def _selected(env: Any, eval_input: Any, items: list[Any]) -> list[Any]:
    """Each item through ItemSelector (or the legacy Parameters), as a child would see it, before batching."""
    selector = eval_input.item_selector or eval_input.parameters
    if selector is None:
        return items
    state_input = env.stack[-1] if env.stack else env.states.get_input()
    frame = env.open_frame()
    try:
        found = []
        for index, item in enumerate(items):
            frame.states.context_object.context_object_data["Map"] = MapData(Item=ItemData(Index=index, Value=item))
            frame.states.reset(input_value=state_input)
            frame.stack.append(state_input)
            selector.eval(frame)
            found.append(frame.stack.pop())
        return found
    finally:
        env.close_frame(frame)


def _map_run(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
    """Replaces `DistributedIterationComponent._map_run` (one child per item, at most MaxConcurrency at once).

    Restores: items are grouped by `ItemBatcher` (`{"Items", "BatchInput"}`, after ItemSelector); a redriven
    map run re-runs only the children that did not succeed and keeps the others' outputs; `ResultWriter`
    gets every child's result; a map run whose failed, timed-out or aborted items exceed
    `ToleratedFailureCount` / `ToleratedFailurePercentage` (as UpdateMapRun last set them) fails: MapRunFailed
    and the Map state's failure carry `States.ExceedToleratedFailureThreshold` (moto let the Map succeed with
    `null` outputs).
    """
    items = env.stack.pop()
    record: MapRunRecord = eval_input.map_run_record
    state = getattr(self, "sb_state", None)
    run = map_run_of(record, eval_input.state_name)
    settings = batch_settings(state, env)
    if settings is not None and not run.children:
        items = map_items.batches(_selected(env, eval_input, items), **settings)
        run.batched = True
    if settings is not None:
        eval_input = copy.copy(eval_input)
        eval_input.item_selector = eval_input.parameters = None  # applied to each item before batching
    jobs = _children_for(record, run, items)
    pool = _IndexedJobPool(self._get_iteration_program(), jobs)
    concurrency = record.max_concurrency
    for _ in range(len(jobs) if concurrency == DEFAULT_MAX_CONCURRENCY_VALUE else min(concurrency, len(jobs))):
        self._launch_worker(env=env, eval_input=eval_input, job_pool=pool)
    pool.await_jobs()
    if pool.get_worker_exception() is not None:
        raise pool.get_worker_exception()
    children = [run.children[i] for i in sorted(run.children)]
    result: Any = [child.output for child in children]
    if state is not None and state.result_writer is not None:
        result = write_results(state, env, record.map_run_arn, children)
    counts = record.item_counter
    failed = counts.failed.get() + counts.timed_out.get() + counts.aborted.get()
    if threshold_exceeded(failed, counts.total.get(), record.tolerated_failure_count,
                          record.tolerated_failure_percentage):  # fmt: skip
        error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
        raise FailureEventException(FailureEvent(
            env=env, error_name=error, event_type=HistoryEventType.MapRunFailed,
            event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
                error=error.error_name, cause=EXCEEDED))))  # fmt: skip
    env.stack.append(result)


_ORIGINAL_EVAL_BODY = DistributedIterationComponent._eval_body


def redrive_map_run(env: Any, state_name: str) -> None:
    """Mark the latest failed map run of `state_name` to be redriven when the execution re-enters the state."""
    pool = env.map_run_record_pool_manager
    for record in reversed(pool.get_all()):
        run = getattr(record, "sb_map_run", None)
        if run is not None and run.state_name == state_name:
            if record.status == MapRunStatus.FAILED:
                pool.sb_redrive = {**getattr(pool, "sb_redrive", {}), state_name: record}
            return


def _eval_body(self: DistributedIterationComponent, env: Any) -> None:
    """Wraps `DistributedIterationComponent._eval_body` (MapRunStarted, the item reader, the run, its end).

    Restores: a redriven execution re-entering a Distributed Map whose map run failed redrives that map run
    (developer guide, "Redriving Map Runs"): the same map run ARN, `MapRunRedriven` (`mapRunArn`,
    `redriveCount`) instead of MapRunStarted, DescribeMapRun's `redriveCount`/`redriveDate`, and only the
    children that did not succeed run again."""
    eval_input = env.stack[-1]
    pool = env.map_run_record_pool_manager
    old = getattr(pool, "sb_redrive", {}).pop(eval_input.state_name, None)
    if old is None:
        map_run_of(eval_input.map_run_record, eval_input.state_name)
        return _ORIGINAL_EVAL_BODY(self, env)
    pool._pool.pop(eval_input.map_run_record.map_run_arn, None)
    eval_input.map_run_record = old
    run = map_run_of(old)
    run.redrive_count += 1
    run.redrive_date = _now()
    old.status, old.stop_date = MapRunStatus.RUNNING, None
    add_event = env.event_manager.add_event

    def redriven_instead_of_started(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("event_type") == HistoryEventType.MapRunStarted:
            kwargs["event_type"] = HistoryEventType.MapRunRedriven
            kwargs["event_details"] = EventDetails(mapRunRedrivenEventDetails=MapRunRedrivenEventDetails(
                mapRunArn=old.map_run_arn, redriveCount=run.redrive_count))  # fmt: skip
            vars(env.event_manager).pop("add_event", None)
        return add_event(*args, **kwargs)

    env.event_manager.add_event = redriven_instead_of_started  # the one MapRunStarted of this call
    try:
        return _ORIGINAL_EVAL_BODY(self, env)
    finally:
        vars(env.event_manager).pop("add_event", None)


def _record(backend: StepFunctionsParserBackend, map_run_arn: str) -> MapRunRecord:
    for execution in backend._get_executions():
        worker = getattr(execution, "exec_worker", None)
        if worker is not None and worker.env is not None:
            record = worker.env.map_run_record_pool_manager.get(map_run_arn)
            if record is not None:
                return record
    raise ResourceNotFound(map_run_arn)


def map_run_executions(backend: StepFunctionsParserBackend, map_run_arn: str) -> list[dict[str, Any]]:
    """ListExecutions(mapRunArn=...): the map run's child executions, newest first as ListExecutions lists,
    each with its `mapRunArn` and `itemCount` ("returned only if mapRunArn was specified", botocore's
    ExecutionListItem); a child not started yet is not listed. Unknown map run: ResourceNotFound."""
    record = _record(backend, map_run_arn)
    run = map_run_of(record)
    with run.lock:
        children = [c for c in run.children.values() if c.status != "PENDING"]
    items = []
    for child in sorted(children, key=lambda c: (c.start or "", c.index), reverse=True):
        item = {"executionArn": child.arn, "stateMachineArn": child.state_machine_arn, "name": child.name,
                "status": child.status, "startDate": _date(child.start), "mapRunArn": map_run_arn,
                "itemCount": run.counters(record, child.source)[0][1], "redriveCount": child.redrive_count}
        if child.stop is not None:
            item["stopDate"] = _date(child.stop)
        items.append(item)
    return items


def _date(iso: str | None) -> datetime.datetime | None:
    return None if iso is None else datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))


MAP_RUN_EXECUTIONS.append(map_run_executions)


def _describe_map_run(self: StepFunctionsParserBackend, map_run_arn: str) -> dict[str, Any]:
    """Replaces `StepFunctionsParserBackend.describe_map_run`.

    Restores: an unknown map run is AWS's 400 ResourceNotFound (moto built the error without its message
    and answered 500); `redriveCount` (0 before any redrive), `redriveDate` after one, and the item and
    execution counts `pendingRedrive` and `failuresNotRedrivable` (always 0: a Standard child stays redrivable
    by its map run) that the API reference lists."""
    record = _record(self, map_run_arn)
    described = record.describe()
    run = getattr(record, "sb_map_run", None)
    for counts in (described["itemCounts"], described["executionCounts"]):
        counts.update(failuresNotRedrivable=0, pendingRedrive=run.pending_redrive if run else 0)
    described["redriveCount"] = run.redrive_count if run else 0
    if run is not None and run.redrive_date is not None:
        described["redriveDate"] = run.redrive_date
    return described


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
        (DistributedIterationComponent, "_eval_body", _eval_body),
        (StepFunctionsParserBackend, "describe_map_run", _describe_map_run),
        (StepFunctionsParserBackend, "update_map_run", _update_map_run),
    ],
    [
        Seam(DistributedItemProcessorWorker, "_eval_job", ("self", "env", "job"), _eval_job.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_a_map_run_is_listed_under_its_execution_and_counts_its_items"),
        Seam(DistributedIterationComponent, "_map_run", ("self", "env", "eval_input"), _map_run.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_a_failed_item_beyond_the_tolerance_fails_the_map_run_and_the_state"),
        Seam(DistributedIterationComponent, "_eval_body", ("self", "env"), _eval_body.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_io.py::test_redriving_a_failed_map_run_reruns_only_its_failed_items"),
        Seam(StepFunctionsParserBackend, "describe_map_run", ("self", "map_run_arn"),
             _describe_map_run.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_an_unknown_map_run_is_resource_not_found"),
        Seam(StepFunctionsParserBackend, "update_map_run", ("self", "map_run_arn", "max_concurrency",
             "tolerated_failure_count", "tolerated_failure_percentage"), _update_map_run.__doc__ or "",
             proved_by="tests/sim/aws/sfn/test_map_runs.py::test_update_map_run_refuses_values_out_of_the_api_bounds"),
    ],
)
