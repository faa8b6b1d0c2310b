"""Job triggers on the virtual clock, through databricks-sdk: a simulated day of schedules in seconds.

A private simulator (not the shared workspace): triggers need its virtual clock, and file arrival its S3.
Every job is deleted at the end of its test so its trigger stops.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs
from databricks.sdk.service.workspace import ImportFormat, Language

from sim import clock as clock_module
from sim.databricks.triggers import engine as engine_module
from sim.simulator import Simulator

pytestmark = pytest.mark.slow
DAY = 86_400
NOTEBOOK = "/Shared/tests/triggers/ok"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator.start(warm_cluster=True) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def client(sim: Simulator) -> WorkspaceClient:
    w = WorkspaceClient(host=sim.databricks.host, token=sim.databricks.token)
    w.workspace.mkdirs(NOTEBOOK.rsplit("/", 1)[0])
    w.workspace.upload(NOTEBOOK, b'# Databricks notebook source\nprint("triggered")\n',
                       format=ImportFormat.SOURCE, language=Language.PYTHON, overwrite=True)
    return w


@pytest.fixture
def s3(sim: Simulator):
    return boto3.client("s3", endpoint_url=sim.aws.endpoint, region_name="us-east-1")


def _job(client: WorkspaceClient, **settings) -> int:
    task = jobs.Task(task_key="t", notebook_task=jobs.NotebookTask(notebook_path=NOTEBOOK))
    return client.jobs.create(name=f"trig-{uuid.uuid4().hex[:6]}", tasks=[task], **settings).job_id


def _runs(client: WorkspaceClient, job_id: int, until: float | None = None) -> list[jobs.BaseRun]:
    """The job's runs, oldest first; with `until`, those started by then (the clock goes on skipping to the
    next firing while the test reads, as a workspace's would go on firing)."""
    runs = sorted(client.jobs.list_runs(job_id=job_id), key=lambda r: r.start_time)
    return [r for r in runs if until is None or r.start_time <= until * 1000]


def _settle(sim: Simulator, client: WorkspaceClient, job_id: int) -> None:
    """Let the last triggered runs finish (time runs at wall speed while they work)."""
    for _ in range(600):
        if not list(client.jobs.list_runs(job_id=job_id, active_only=True)):
            return
        sim.clock.sleep(0.5)
    raise AssertionError(f"runs of job {job_id} did not finish")


def test_a_cron_schedule_fires_at_each_quartz_time_over_a_simulated_day(sim, client) -> None:
    start = sim.clock.now()  # before jobs/create: the clock may skip to the first firing while it returns
    job_id = _job(client, schedule=jobs.CronSchedule(quartz_cron_expression="0 0 0/4 * * ?", timezone_id="UTC"))
    sim.clock.sleep(DAY)
    _settle(sim, client, job_id)
    runs = _runs(client, job_id, until=start + DAY)
    client.jobs.delete(job_id)
    assert len(runs) == 6, [r.start_time / 1000 - start for r in runs]
    assert {r.trigger for r in runs} == {jobs.TriggerType.PERIODIC}
    for run in runs:
        assert start * 1000 < run.start_time <= (start + DAY) * 1000
        assert (run.start_time // 1000) % (4 * 3600) < 5, "each run starts on a 4-hour mark, as the cron says"
        assert run.state.result_state == jobs.RunResultState.SUCCESS


def test_a_paused_schedule_does_not_fire(sim, client) -> None:
    job_id = _job(client, schedule=jobs.CronSchedule(quartz_cron_expression="0 0/30 * * * ?", timezone_id="UTC",
                                                    pause_status=jobs.PauseStatus.PAUSED))
    sim.clock.sleep(6 * 3600)
    assert _runs(client, job_id) == []
    client.jobs.delete(job_id)


def test_a_schedule_unpaused_by_jobs_update_starts_firing(sim, client) -> None:
    paused = jobs.CronSchedule(quartz_cron_expression="0 0 * * * ?", timezone_id="Europe/Amsterdam",
                               pause_status=jobs.PauseStatus.PAUSED)
    job_id = _job(client, schedule=paused)
    sim.clock.sleep(3 * 3600)
    assert _runs(client, job_id) == []
    unpaused = sim.clock.now()
    client.jobs.update(job_id, new_settings=jobs.JobSettings(schedule=jobs.CronSchedule(
        quartz_cron_expression="0 0 * * * ?", timezone_id="Europe/Amsterdam", pause_status=jobs.PauseStatus.UNPAUSED)))
    sim.clock.sleep(2 * 3600)
    _settle(sim, client, job_id)
    runs = _runs(client, job_id, until=unpaused + 2 * 3600)
    client.jobs.delete(job_id)
    assert len(runs) == 2


def test_a_periodic_trigger_starts_a_run_every_interval(sim, client) -> None:
    created = sim.clock.now()
    job_id = _job(client, trigger=jobs.TriggerSettings(periodic=jobs.PeriodicTriggerConfiguration(
        interval=6, unit=jobs.PeriodicTriggerConfigurationTimeUnit.HOURS)))
    sim.clock.sleep(DAY - 60)
    _settle(sim, client, job_id)
    runs = _runs(client, job_id, until=created + DAY - 60)
    client.jobs.delete(job_id)
    assert [r.trigger for r in runs] == [jobs.TriggerType.PERIODIC] * 3
    offsets = [round(r.start_time / 1000 - created) for r in runs]
    assert [round(o / 3600) for o in offsets] == [6, 12, 18]


def test_a_trigger_thread_held_up_before_it_waits_still_fires_on_time(sim, client, monkeypatch) -> None:
    """A CI run under load: between its tick and its wait the engine held neither a busy claim nor a timer,
    so when its thread was descheduled there for longer than the clock's 20 ms settle, the test's own sleep
    jumped past the trigger's due time. Here the engine is held up 0.3 s (real) before each wait."""
    real = clock_module.get

    class HeldUp:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def wait(self, event, timeout, **kwargs):
            time.sleep(0.3)
            return self.inner.wait(event, timeout, **kwargs)

    monkeypatch.setattr(engine_module, "clock", SimpleNamespace(
        **{name: getattr(clock_module, name) for name in ("busy", "now", "ClockEvent")}, get=lambda: HeldUp(real())))
    created = sim.clock.now()
    job_id = _job(client, trigger=jobs.TriggerSettings(periodic=jobs.PeriodicTriggerConfiguration(
        interval=1, unit=jobs.PeriodicTriggerConfigurationTimeUnit.HOURS)))
    sim.clock.sleep(3 * 3600 - 60)
    _settle(sim, client, job_id)
    runs = _runs(client, job_id, until=created + 3 * 3600 - 60)
    client.jobs.delete(job_id)
    assert [round((r.start_time / 1000 - created) / 60) for r in runs] == [60, 120]


def test_a_run_now_still_reports_a_one_time_trigger(sim, client) -> None:
    job_id = _job(client)
    run = client.jobs.run_now(job_id).result()
    client.jobs.delete(job_id)
    assert run.trigger == jobs.TriggerType.ONE_TIME


def test_files_arriving_in_s3_start_one_run_per_quiet_period(sim, client, s3) -> None:
    bucket = f"landing-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="raw/already-there.csv", Body=b"a\n")
    s3.put_object(Bucket=bucket, Key="elsewhere/ignored.csv", Body=b"a\n")
    job_id = _job(client, trigger=jobs.TriggerSettings(file_arrival=jobs.FileArrivalTriggerConfiguration(
        url=f"s3://{bucket}/raw/", min_time_between_triggers_seconds=60, wait_after_last_change_seconds=120)))
    sim.clock.sleep(600)
    assert _runs(client, job_id) == [], "files there before the trigger was set start nothing"

    for i in range(3):  # one batch landing in pieces, 40 s apart: one run after it goes quiet
        s3.put_object(Bucket=bucket, Key=f"raw/part-{i}.csv", Body=b"x\n")
        sim.clock.sleep(40)
    last_file = sim.clock.now()
    sim.clock.sleep(600)
    _settle(sim, client, job_id)
    first = _runs(client, job_id)
    assert [r.trigger for r in first] == [jobs.TriggerType.FILE_ARRIVAL]
    assert first[0].start_time / 1000 >= last_file - 40 + 120, "not before 120 s without changes"

    s3.put_object(Bucket=bucket, Key="elsewhere/still-ignored.csv", Body=b"x\n")
    sim.clock.sleep(600)
    assert len(_runs(client, job_id)) == 1, "a file outside the location starts nothing"

    s3.put_object(Bucket=bucket, Key="raw/next-day.csv", Body=b"x\n")
    sim.clock.sleep(600)
    _settle(sim, client, job_id)
    runs = _runs(client, job_id)
    client.jobs.delete(job_id)
    assert [r.trigger for r in runs] == [jobs.TriggerType.FILE_ARRIVAL] * 2
    assert all(r.state.result_state == jobs.RunResultState.SUCCESS for r in runs)


def test_a_continuous_job_starts_a_new_run_whenever_none_is_active(sim, client) -> None:
    job_id = _job(client, continuous=jobs.Continuous(pause_status=jobs.PauseStatus.UNPAUSED))
    for _ in range(600):
        finished = [r for r in _runs(client, job_id) if r.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED]
        if len(finished) >= 3:
            break
        sim.clock.sleep(0.5)
    client.jobs.update(job_id, new_settings=jobs.JobSettings(
        continuous=jobs.Continuous(pause_status=jobs.PauseStatus.PAUSED)))
    _settle(sim, client, job_id)
    runs = _runs(client, job_id)
    sim.clock.sleep(3600)
    after_pause = _runs(client, job_id)
    client.jobs.delete(job_id)
    assert len(runs) >= 3
    assert {r.trigger for r in runs} == {jobs.TriggerType.CONTINUOUS}
    for before, after in itertools.pairwise(runs):
        assert after.start_time >= before.end_time, "never two runs of a continuous job at once"
    assert len(after_pause) == len(runs), "a paused continuous job starts no run"


@pytest.mark.parametrize("schedule", [
    jobs.CronSchedule(quartz_cron_expression="0 0 * * *", timezone_id="UTC"),  # 5 fields: Unix, not Quartz
    jobs.CronSchedule(quartz_cron_expression="0 0 12 * * MON", timezone_id="UTC"),  # neither day field is ?
    jobs.CronSchedule(quartz_cron_expression="0 0 12 * * ?", timezone_id="Mars/Olympus_Mons"),
])
def test_jobs_create_refuses_a_schedule_a_workspace_cannot_fire(client, schedule) -> None:
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        _job(client, schedule=schedule)


def test_file_arrival_waits_min_time_between_triggers_before_the_next_run(sim, client, s3) -> None:
    bucket = f"spaced-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    job_id = _job(client, trigger=jobs.TriggerSettings(file_arrival=jobs.FileArrivalTriggerConfiguration(
        url=f"s3://{bucket}/in/", min_time_between_triggers_seconds=900)))
    s3.put_object(Bucket=bucket, Key="in/a.csv", Body=b"x\n")
    sim.clock.sleep(120)
    _settle(sim, client, job_id)
    s3.put_object(Bucket=bucket, Key="in/b.csv", Body=b"x\n")
    sim.clock.sleep(1800)
    _settle(sim, client, job_id)
    runs = _runs(client, job_id)
    client.jobs.delete(job_id)
    assert len(runs) == 2
    gap = (runs[1].start_time - runs[0].start_time) / 1000
    assert 899 <= gap < 900 + 61, "the second file waits out the 900 s since the first trigger, then starts"


def test_an_idle_file_arrival_trigger_lists_its_location_only_after_the_bucket_changes(sim, client, s3) -> None:
    """The clock skips each idle minute in milliseconds; a listing of an unchanged bucket finds nothing new."""
    bucket = f"quiet-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    job_id = _job(client, trigger=jobs.TriggerSettings(file_arrival=jobs.FileArrivalTriggerConfiguration(
        url=f"s3://{bucket}/in/")))
    engine = sim.databricks.backend.triggers

    sim.clock.sleep(3600)  # sixty checks
    idle_listings = engine.listings(job_id)
    s3.put_object(Bucket=bucket, Key="in/a.csv", Body=b"x\n")
    sim.clock.sleep(120)
    _settle(sim, client, job_id)
    runs = _runs(client, job_id)
    listings = engine.listings(job_id)
    client.jobs.delete(job_id)

    assert idle_listings == 1, "only the baseline listing while nothing changed"
    assert listings >= 2 and [r.trigger for r in runs] == [jobs.TriggerType.FILE_ARRIVAL]
