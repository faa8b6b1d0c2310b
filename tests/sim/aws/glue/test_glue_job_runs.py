"""Glue's API on local Spark: states, ErrorMessage, MaxRetries, Timeout, BatchStopJobRun, startJobRun.sync."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from sim import clock
from sim.faults import FaultPlan
from sim.simulator import Simulator

FAILING = b"from awsglue.context import GlueContext\nfrom pyspark.context import SparkContext\n" \
          b"GlueContext(SparkContext()).purge_s3_path('s3://x/')\n"


@pytest.fixture(scope="module")
def glue_sim() -> Iterator[tuple[Simulator, FaultPlan]]:
    plan = FaultPlan()
    with Simulator.start(databricks=False, fault_plan=plan) as sim:
        sim.aws.client("s3").create_bucket(Bucket="scripts")
        sim.aws.client("s3").put_object(Bucket="scripts", Key="unsupported.py", Body=FAILING)
        yield sim, plan


WAIT_SECONDS = 120.0  # wall-clock: the virtual clock may jump (a Timeout), a test's patience must not


def _wait(glue, job: str, run_id: str, timeout: float = WAIT_SECONDS) -> dict:
    """Until the run ends. A MaxRetries retry appears a moment after its predecessor FAILED (as on AWS,
    nothing orders the two), so a run not there yet is waited for too — for `timeout` seconds at most."""
    tick = clock.ClockEvent()
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        try:
            run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        except glue.exceptions.EntityNotFoundException:
            run = None
        if run is not None and run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            return run
        clock.poll(tick, 0.2)
    if run is None:
        raise AssertionError(f"Glue job run {run_id} of {job} never appeared in {timeout:.0f} s")
    raise AssertionError(f"Glue job run {run_id} of {job} still {run['JobRunState']} after {timeout:.0f} s")


def test_unsupported_awsglue_api_fails_the_run_naming_it_and_max_retries_retry_it(glue_sim) -> None:
    sim, _ = glue_sim
    glue = sim.aws.client("glue")
    glue.create_job(Name="unsupported", Role="r", MaxRetries=1,
                    Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/unsupported.py"})
    run_id = glue.start_job_run(JobName="unsupported")["JobRunId"]
    first = _wait(glue, "unsupported", run_id)
    assert first["JobRunState"] == "FAILED"
    assert "GlueContext.purge_s3_path is not simulated" in first["ErrorMessage"]
    retry_id = f"{run_id}_attempt_1"
    retry = _wait(glue, "unsupported", retry_id)
    assert (retry["Attempt"], retry["PreviousRunId"], retry["JobRunState"]) == (1, run_id, "FAILED")
    assert [r["Id"] for r in glue.get_job_runs(JobName="unsupported")["JobRuns"]] == [retry_id, run_id]


def test_a_run_that_hangs_times_out_after_its_timeout_on_the_virtual_clock(glue_sim) -> None:
    sim, plan = glue_sim
    glue = sim.aws.client("glue")
    glue.create_job(Name="hangs", Role="r", Timeout=5, Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/unsupported.py"})
    plan.add("glue", "hangs", timeout=True)
    run = _wait(glue, "hangs", glue.start_job_run(JobName="hangs")["JobRunId"])
    assert run["JobRunState"] == "TIMEOUT"
    assert run["ExecutionTime"] >= 300


def test_batch_stop_job_run_stops_an_active_run_and_reports_unknown_ones(glue_sim) -> None:
    sim, plan = glue_sim
    glue = sim.aws.client("glue")
    glue.create_job(Name="stoppable", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/unsupported.py"})
    plan.add("glue", "stoppable", timeout=True)
    run_id = glue.start_job_run(JobName="stoppable")["JobRunId"]
    answer = glue.batch_stop_job_run(JobName="stoppable", JobRunIds=[run_id, "jr_nope"])
    assert answer["SuccessfulSubmissions"] == [{"JobName": "stoppable", "JobRunId": run_id}]
    assert answer["Errors"][0]["ErrorDetail"]["ErrorCode"] == "EntityNotFoundException"
    assert _wait(glue, "stoppable", run_id)["JobRunState"] == "STOPPED"


def test_start_job_run_sync_fails_the_state_with_the_job_run_as_cause(glue_sim) -> None:
    sim, plan = glue_sim
    glue, sfn = sim.aws.client("glue"), sim.aws.client("stepfunctions")
    glue.create_job(Name="sync-fails", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/unsupported.py"})
    plan.add("glue", "sync-fails", error="boom")
    role = sim.aws.client("iam").create_role(RoleName="sfn-glue", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = sfn.create_state_machine(name="glue-sync", roleArn=role, definition=json.dumps({
        "StartAt": "Run", "States": {"Run": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                                             "Parameters": {"JobName": "sync-fails"}, "End": True}}}))["stateMachineArn"]
    arn = sim.aws.start_execution(machine, {})
    tick, deadline = clock.ClockEvent(), time.monotonic() + WAIT_SECONDS
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"execution {arn} still RUNNING after {WAIT_SECONDS:.0f} s"
        clock.poll(tick, 0.2)
    assert described["error"] == "States.TaskFailed"
    cause = json.loads(described["cause"])
    assert (cause["JobName"], cause["JobRunState"], cause["ErrorMessage"]) == ("sync-fails", "FAILED", "boom")
