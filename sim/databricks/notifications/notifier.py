"""Sends a job's notifications when its runs start, end or run long.

What a job's settings ask for (Jobs API 2.2, databricks-sdk `JobEmailNotifications`,
`WebhookNotifications`, `JobNotificationSettings`, `JobsHealthRules`):
- `on_start` when the run starts; `on_success` when it ends TERMINATED/SUCCESS; `on_failure` when it ends
  otherwise (FAILED, TIMEDOUT, INTERNAL_ERROR...), canceled and skipped runs included unless
  `notification_settings.no_alert_for_canceled_runs` / `no_alert_for_skipped_runs` (also read from
  `email_notifications`) says not to;
- `on_duration_warning_threshold_exceeded` once a run is still active `health.rules[]` RUN_DURATION_SECONDS
  GREATER_THAN `value` seconds after it started (a timer on the simulator's clock);
- `on_streaming_backlog_exceeded` is not simulated (no streaming sources), nor task-level notifications.

Emails land in an outbox (`outbox()`, and one JSON line each in `<state>/notifications/outbox.jsonl`),
never on a mail server. Webhooks are real HTTP POSTs to each `generic_webhook` destination's URL with
the payload of Databricks' "Add notifications on a job" docs (HTTP webhook payload):
`{"event_type": "jobs.on_failure", "workspace_id": ..., "run": {"run_id": ...}, "job": {"job_id": ...,
"name": ...}}`; each delivery (status or error) is recorded in `deliveries()`.
"""

from __future__ import annotations

import copy
import json
import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from sim import clock
from sim import context as sim_context
from sim.databricks.notifications.destinations import Destinations
from sim.databricks.runs.models import Run

log = logging.getLogger(__name__)
EVENTS = ("on_start", "on_success", "on_failure", "on_duration_warning_threshold_exceeded")
WEBHOOK_TIMEOUT_S = 10.0


def run_event(run: Run) -> str | None:
    """Which end-of-run event a terminal run raises."""
    state = run.state
    if not state.terminal:
        return None
    if state.result_state == "SUCCESS":
        return "on_success"
    return "on_failure"


def duration_threshold(settings: dict[str, Any]) -> float | None:
    for rule in (settings.get("health") or {}).get("rules") or []:
        if rule.get("metric") == "RUN_DURATION_SECONDS" and rule.get("op") == "GREATER_THAN":
            return float(rule["value"])
    return None


class Notifier:
    def __init__(self, *, job_settings: Callable[[int], dict[str, Any] | None], destinations: Destinations,
                 workspace_id: str, state_dir: Path) -> None:
        self._job_settings = job_settings
        self._destinations = destinations
        self._workspace_id = workspace_id
        self._outbox_file = state_dir / "notifications" / "outbox.jsonl"
        self._outbox_file.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._sent: set[tuple[int, int | None, str]] = set()
        self._outbox: list[dict[str, Any]] = []
        self._deliveries: list[dict[str, Any]] = []
        self._ended: dict[tuple[int, int | None], threading.Event] = {}
        self._stopped = False
        self._queue: queue.Queue[tuple[str, Run, dict[str, Any], clock.Clock] | None] = queue.Queue()
        self._worker = sim_context.Thread(target=self._deliver_loop, name="databricks-notifications", daemon=True)
        self._worker.start()

    # --- what tests and users read -------------------------------------------------------------
    def outbox(self) -> list[dict[str, Any]]:
        """Every email sent, oldest first."""
        with self._lock:
            return list(self._outbox)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook POST made (url, event, status or error), oldest first."""
        with self._lock:
            return list(self._deliveries)

    # --- hooked to the runs backend ------------------------------------------------------------
    def run_changed(self, run: Run) -> None:
        if run.job_id is None or run.run_type != "JOB_RUN":
            return
        key = (run.run_id, run.latest_repair_id)
        life = run.state.life_cycle_state
        if life in ("RUNNING", "TERMINATING", "TERMINATED") and self._first(key, "on_start"):
            self._emit("on_start", run)
            self._watch_duration(run, key)
        event = run_event(run)
        if event is not None and self._first(key, "end"):
            with self._lock:
                ended = self._ended.pop(key, None)
            if ended is not None:
                ended.set()
            settings = self._job_settings(run.job_id) or {}
            if not self._muted(run, settings):
                self._emit(event, run)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True  # nothing is queued after the end marker: its clock claim would never go back
            self._queue.put(None)
            for ended in self._ended.values():
                ended.set()

    def _first(self, key: tuple[int, int | None], what: str) -> bool:
        with self._lock:
            if (*key, what) in self._sent:
                return False
            self._sent.add((*key, what))
            return True

    @staticmethod
    def _muted(run: Run, settings: dict[str, Any]) -> bool:
        flags = {**(settings.get("email_notifications") or {}), **(settings.get("notification_settings") or {})}
        if run.state.life_cycle_state == "SKIPPED":
            return bool(flags.get("no_alert_for_skipped_runs"))
        if run.state.result_state == "CANCELED":
            return bool(flags.get("no_alert_for_canceled_runs"))
        return False

    def _watch_duration(self, run: Run, key: tuple[int, int | None]) -> None:
        settings = self._job_settings(run.job_id or 0) or {}
        threshold = duration_threshold(settings)
        if threshold is None:
            return
        ended = clock.ClockEvent()
        with self._lock:
            self._ended[key] = ended

        def watch() -> None:
            left = run.start_time / 1000 + threshold - clock.now()
            if not clock.get().wait(ended, max(0.0, left)):
                self._emit("on_duration_warning_threshold_exceeded", run)

        sim_context.spawn(watch, name=f"duration-{run.run_id}")

    def _emit(self, event: str, run: Run) -> None:
        """Queue the event with the run as it is now (the run goes on changing before delivery)."""
        settings = self._job_settings(run.job_id or 0) or {}
        snapshot = copy.copy(run)
        snapshot.state = copy.deepcopy(run.state)
        # The delivery is work owed from this instant: claimed here, adopted by the delivery thread, so the
        # virtual clock cannot jump while the event waits in the queue (a delivery thread held up past the
        # clock's 20 ms settle stamped a notification with a time long after its event).
        with self._lock:
            if self._stopped:
                return
            owed = clock.get()
            owed.claim()
            self._queue.put((event, snapshot, settings, owed))

    # --- delivery ------------------------------------------------------------------------------
    def _deliver_loop(self) -> None:
        while (item := self._queue.get()) is not None:
            event, run, settings, owed = item
            with owed.adopt():  # the claim `_emit` took on its clock: no skipping past a delivery
                try:
                    self._deliver(event, run, settings)
                except Exception:  # one bad destination must not stop the others
                    log.exception("notification %s of run %s failed", event, run.run_id)

    def _deliver(self, event: str, run: Run, settings: dict[str, Any]) -> None:
        name = settings.get("name") or run.run_name
        addresses = (settings.get("email_notifications") or {}).get(event) or []
        if addresses:
            mail = {"event_type": f"jobs.{event}", "to": list(addresses), "time": clock.now_ms(),
                    "subject": _subject(event, name, run), "job_id": run.job_id, "run_id": run.run_id,
                    "job_name": name, "life_cycle_state": run.state.life_cycle_state,
                    "result_state": run.state.result_state, "state_message": run.state.state_message}
            with self._lock:
                self._outbox.append(mail)
                with self._outbox_file.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(mail) + "\n")
        for target in (settings.get("webhook_notifications") or {}).get(event) or []:
            self._post(event, run, name, target.get("id", ""))

    def _post(self, event: str, run: Run, name: str, destination_id: str) -> None:
        payload = {"event_type": f"jobs.{event}", "workspace_id": self._workspace_id,
                   "run": {"run_id": run.run_id}, "job": {"job_id": run.job_id, "name": name}}
        record: dict[str, Any] = {"destination_id": destination_id, "event_type": payload["event_type"],
                                  "payload": payload, "time": clock.now_ms()}
        try:
            config = self._destinations.raw(destination_id)["config"].get("generic_webhook")
            if config is None:
                raise ValueError(f"destination {destination_id} is not a generic webhook (not delivered)")
            auth = (config["username"], config.get("password", "")) if config.get("username") else None
            record["url"] = config["url"]
            response = requests.post(config["url"], json=payload, auth=auth, timeout=WEBHOOK_TIMEOUT_S)
            record["status"] = response.status_code
        except Exception as e:
            record["error"] = f"{type(e).__name__}: {e}"
        with self._lock:
            self._deliveries.append(record)


def _subject(event: str, name: str, run: Run) -> str:
    what = {"on_start": "started", "on_success": "succeeded", "on_failure": "failed",
            "on_duration_warning_threshold_exceeded": "is running longer than expected"}[event]
    return f"[stepbricks] Run {run.run_id} of job {name} {what}"
