"""Starts job runs from their triggers, on the simulator's clock (conditions, not polling).

One thread sleeps through the clock until the earliest due trigger (a timer, so a virtual clock skips to
it when the workspace is idle) or until a job or a run changes (`wake`). What each setting does (Jobs
API 2.2, databricks-sdk `CronSchedule`, `TriggerSettings`, `Continuous`):
- `schedule`: fires at each Quartz cron time in `timezone_id`; runs report `trigger` PERIODIC.
- `trigger.periodic`: every `interval` `unit` (HOURS/DAYS/WEEKS) after the trigger was set; PERIODIC.
- `trigger.file_arrival`: see `file_arrival.py`; FILE_ARRIVAL.
- `continuous`: a new run whenever the job has no active run; CONTINUOUS.
A `pause_status` of PAUSED on any of them turns it off. Firings missed while a run is active follow the
job's `max_concurrent_runs` (the run is skipped or queued, as for run-now).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim import clock
from sim import context as sim_context
from sim.databricks.jobs.models import JobsBackend
from sim.databricks.runs.models import Run
from sim.databricks.runs.service import RunsService
from sim.databricks.triggers import quartz
from sim.databricks.triggers.file_arrival import FileArrival, S3Changes

log = logging.getLogger(__name__)
PERIOD_UNITS = {"HOURS": 3600, "DAYS": 86400, "WEEKS": 7 * 86400}


@dataclass
class _Armed:
    """One job's trigger as last seen; a changed setting (`signature`) re-arms it from now."""

    signature: str
    kind: str  # CRON | PERIODIC | FILE_ARRIVAL | CONTINUOUS
    settings: dict[str, Any]
    due: float | None = None
    watch: FileArrival | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def armed_kind(settings: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """Which trigger of `settings` is live (not PAUSED), with its settings; None for none."""
    schedule = settings.get("schedule")
    if schedule and schedule.get("pause_status") != "PAUSED":
        return "CRON", schedule
    trigger = settings.get("trigger")
    if trigger and trigger.get("pause_status") != "PAUSED":
        if trigger.get("periodic"):
            return "PERIODIC", trigger["periodic"]
        if trigger.get("file_arrival"):
            return "FILE_ARRIVAL", trigger["file_arrival"]
    continuous = settings.get("continuous")
    if continuous and continuous.get("pause_status") != "PAUSED":
        return "CONTINUOUS", continuous
    return None


class TriggerEngine:
    def __init__(self, jobs: JobsBackend, runs: RunsService, *, s3_client: Callable[[], Any],
                 s3_changes: S3Changes | None = None) -> None:
        self._jobs = jobs
        self._runs = runs
        self._s3_client = s3_client
        self._s3_changes = s3_changes
        self._armed: dict[int, _Armed] = {}
        self._wake = clock.ClockEvent()
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = sim_context.Thread(target=self._loop, name="databricks-triggers", daemon=True)
        self._thread.start()

    def job_changed(self, *_: object) -> None:
        """jobs/create, reset, update, delete: arm the job's trigger before the call returns (a file-arrival
        trigger's baseline is the bucket as it is now), then let the loop recompute its next wake-up."""
        with self._lock:
            self._tick()
        self._wake.set()

    def run_changed(self, run: Run) -> None:
        if run.state.terminal and run.job_id in self._armed and self._armed[run.job_id].kind == "CONTINUOUS":
            self._wake.set()

    def listings(self, job_id: int) -> int:
        """How many times the job's file-arrival location has been listed (0 for other triggers)."""
        with self._lock:
            armed = self._armed.get(job_id)
            return armed.watch.listings if armed is not None and armed.watch is not None else 0

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            # Busy until the wait has taken its timer (the wait gives the claim back then): between the two
            # the clock saw neither, and a thread held up there for more than the clock's 20 ms settle let
            # another actor's sleep jump past this due time (a CI run under load: a file-arrival check 40
            # virtual seconds late, two runs for one batch).
            with clock.busy():
                with self._lock:
                    due = self._tick()
                clock.get().wait(self._wake, None if due is None else max(0.0, due - clock.now()))

    def _tick(self) -> float | None:
        """Fire what is due; the earliest next due time."""
        now = clock.now()
        jobs = {job.job_id: job.settings for job in self._jobs.all()}
        for job_id in set(self._armed) - set(jobs):
            del self._armed[job_id]
        earliest: float | None = None
        for job_id, settings in jobs.items():
            live = armed_kind(settings)
            if live is None:
                self._armed.pop(job_id, None)
                continue
            kind, config = live
            signature = json.dumps([kind, config], sort_keys=True)
            armed = self._armed.get(job_id)
            if armed is None or armed.signature != signature:
                armed = self._armed[job_id] = self._arm(kind, config, now)
            try:
                due = self._step(job_id, armed, now)
            except Exception:  # one job's broken trigger must not stop the others
                log.exception("trigger of job %s failed", job_id)
                due = now + 60
            if due is not None:
                earliest = due if earliest is None else min(earliest, due)
        return earliest

    def _arm(self, kind: str, config: dict[str, Any], now: float) -> _Armed:
        armed = _Armed(json.dumps([kind, config], sort_keys=True), kind, config)
        if kind == "CRON":
            armed.due = quartz.next_fire(config["quartz_cron_expression"], config.get("timezone_id"), now)
        elif kind == "PERIODIC":
            armed.due = now + period_seconds(config)
        elif kind == "FILE_ARRIVAL":
            armed.watch = FileArrival(config, self._s3_client, now, changes=self._s3_changes)
        return armed

    def _step(self, job_id: int, armed: _Armed, now: float) -> float | None:
        if armed.kind == "CONTINUOUS":
            if not self._runs.active_runs(job_id):
                self._fire(job_id, "CONTINUOUS")
            return None  # the next run starts when this one ends (run_changed wakes us)
        if armed.kind == "FILE_ARRIVAL":
            assert armed.watch is not None
            fire, due = armed.watch.check(now)
            if fire:
                self._fire(job_id, "FILE_ARRIVAL")
            return due
        assert armed.due is not None
        if now >= armed.due:
            self._fire(job_id, "PERIODIC")
            if armed.kind == "CRON":
                armed.due = quartz.next_fire(armed.settings["quartz_cron_expression"],
                                             armed.settings.get("timezone_id"), now)
            else:
                armed.due += period_seconds(armed.settings)
        return armed.due

    def _fire(self, job_id: int, trigger: str) -> None:
        log.info("trigger %s starts a run of job %s", trigger, job_id)
        self._runs.run_now({"job_id": job_id}, trigger=trigger)


def period_seconds(periodic: dict[str, Any]) -> float:
    unit = periodic.get("unit") or "HOURS"
    return float(periodic["interval"]) * PERIOD_UNITS[unit]


def install(jobs: JobsBackend, runs: RunsService, *, s3_client: Callable[[], Any],
            s3_changes: S3Changes | None = None) -> TriggerEngine:
    """Start the engine and hook it to job changes and run ends."""
    engine = TriggerEngine(jobs, runs, s3_client=s3_client, s3_changes=s3_changes)
    jobs.listeners.append(engine.job_changed)
    runs.listeners.append(engine.run_changed)
    return engine


__all__ = ["TriggerEngine", "armed_kind", "install", "period_seconds"]
