"""Job notifications through databricks-sdk: emails in the workspace's outbox, webhooks POSTed to a real
HTTP endpoint on the loopback (a notification destination), on start, success, failure and duration."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from databricks.sdk.service import jobs, settings

from sim import clock
from sim.databricks.backend import WORKSPACE_ID

pytestmark = pytest.mark.slow


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A webhook endpoint on the loopback: its URL and the JSON bodies POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def _eventually(check, timeout: float = 30.0):
    deadline = clock.now() + timeout
    while clock.now() < deadline:
        value = check()
        if value:
            return value
        clock.sleep(0.1)
    raise AssertionError("never happened")


def _mails(workspace, run_id: int) -> list[dict]:
    return [m for m in workspace.backend.notifier.outbox() if m["run_id"] == run_id]


def test_a_failed_run_emails_on_start_and_on_failure_and_posts_the_webhook(
        client, workspace, upload_notebook, receiver) -> None:
    url, received = receiver
    path = upload_notebook(f"/Shared/tests/notify/fail-{uuid.uuid4().hex[:6]}", 'raise ValueError("bad day")\n')
    hook = client.notification_destinations.create(
        display_name="on-call", config=settings.Config(generic_webhook=settings.GenericWebhookConfig(url=url)))
    assert hook.destination_type == settings.DestinationType.WEBHOOK
    assert client.notification_destinations.get(hook.id).config.generic_webhook.url_set
    name = f"notify-fail-{uuid.uuid4().hex[:6]}"
    job_id = client.jobs.create(
        name=name, tasks=[jobs.Task(task_key="t", notebook_task=jobs.NotebookTask(notebook_path=path))],
        email_notifications=jobs.JobEmailNotifications(on_start=["team@example.com"],
                                                       on_success=["team@example.com"],
                                                       on_failure=["oncall@example.com"]),
        webhook_notifications=jobs.WebhookNotifications(on_failure=[jobs.Webhook(id=hook.id)]),
    ).job_id
    run_id = client.jobs.run_now(job_id).run_id
    mails = _eventually(lambda: len(_mails(workspace, run_id)) >= 2 and _mails(workspace, run_id))
    assert [(m["event_type"], m["to"]) for m in mails] == [
        ("jobs.on_start", ["team@example.com"]), ("jobs.on_failure", ["oncall@example.com"])]
    assert mails[1]["result_state"] == "FAILED"
    body = _eventually(lambda: [b for b in received if b["run"]["run_id"] == run_id])
    assert body == [{"event_type": "jobs.on_failure", "workspace_id": WORKSPACE_ID,
                     "run": {"run_id": run_id}, "job": {"job_id": job_id, "name": name}}]
    client.jobs.delete(job_id)


def test_a_successful_run_emails_on_success_only_where_asked(client, workspace, upload_notebook, receiver) -> None:
    url, received = receiver
    path = upload_notebook(f"/Shared/tests/notify/ok-{uuid.uuid4().hex[:6]}", 'print("fine")\n')
    hook = client.notification_destinations.create(
        display_name="success", config=settings.Config(generic_webhook=settings.GenericWebhookConfig(url=url)))
    job_id = client.jobs.create(
        name="notify-ok", tasks=[jobs.Task(task_key="t", notebook_task=jobs.NotebookTask(notebook_path=path))],
        email_notifications=jobs.JobEmailNotifications(on_success=["team@example.com"],
                                                       on_failure=["oncall@example.com"]),
        webhook_notifications=jobs.WebhookNotifications(on_start=[jobs.Webhook(id=hook.id)],
                                                        on_success=[jobs.Webhook(id=hook.id)]),
    ).job_id
    run = client.jobs.run_now(job_id).result()
    mails = _eventually(lambda: _mails(workspace, run.run_id))
    assert [(m["event_type"], m["to"]) for m in mails] == [("jobs.on_success", ["team@example.com"])]
    bodies = _eventually(lambda: len([b for b in received if b["run"]["run_id"] == run.run_id]) == 2 and received)
    assert [b["event_type"] for b in bodies] == ["jobs.on_start", "jobs.on_success"]
    client.jobs.delete(job_id)


def test_a_run_longer_than_its_health_rule_sends_the_duration_warning(client, workspace, upload_notebook) -> None:
    path = upload_notebook(f"/Shared/tests/notify/slow-{uuid.uuid4().hex[:6]}", "import time\ntime.sleep(4)\n")
    job_id = client.jobs.create(
        name="notify-slow", tasks=[jobs.Task(task_key="t", notebook_task=jobs.NotebookTask(notebook_path=path))],
        health=jobs.JobsHealthRules(rules=[jobs.JobsHealthRule(
            metric=jobs.JobsHealthMetric.RUN_DURATION_SECONDS, op=jobs.JobsHealthOperator.GREATER_THAN, value=1)]),
        email_notifications=jobs.JobEmailNotifications(on_duration_warning_threshold_exceeded=["sre@example.com"]),
    ).job_id
    run = client.jobs.run_now(job_id).result()
    mails = _eventually(lambda: _mails(workspace, run.run_id))
    assert [(m["event_type"], m["life_cycle_state"]) for m in mails] == [
        ("jobs.on_duration_warning_threshold_exceeded", "RUNNING")]
    assert mails[0]["time"] - run.start_time >= 1000
    client.jobs.delete(job_id)


def test_no_alert_for_canceled_runs_keeps_on_failure_quiet_for_a_canceled_run(client, workspace, upload_notebook) -> None:
    path = upload_notebook(f"/Shared/tests/notify/long-{uuid.uuid4().hex[:6]}",
                           "import time\nfor _ in range(600):\n    time.sleep(0.1)\n")
    job_id = client.jobs.create(
        name="notify-cancel", tasks=[jobs.Task(task_key="t", notebook_task=jobs.NotebookTask(notebook_path=path))],
        email_notifications=jobs.JobEmailNotifications(on_start=["team@example.com"], on_failure=["oncall@example.com"]),
        notification_settings=jobs.JobNotificationSettings(no_alert_for_canceled_runs=True),
    ).job_id
    run_id = client.jobs.run_now(job_id).run_id
    _eventually(lambda: _mails(workspace, run_id))  # on_start: the run is RUNNING
    client.jobs.cancel_run(run_id).result()
    clock.sleep(1.0)  # the notifier's queue would have delivered an on_failure by now
    assert [m["event_type"] for m in _mails(workspace, run_id)] == ["jobs.on_start"]
    assert client.jobs.get_run(run_id).state.result_state == jobs.RunResultState.CANCELED
    client.jobs.delete(job_id)


def test_a_notification_held_up_on_its_way_to_delivery_carries_the_time_of_its_event(tmp_path, monkeypatch) -> None:
    """On a virtual clock an event waiting in the delivery queue is owed work: the clock does not jump past it.
    Here the delivery thread is held up 0.3 s (real) after each event it takes off the queue while another
    actor sleeps an hour; before, the clock jumped the hour meanwhile and the email came after it."""
    from sim.clock import VirtualClock
    from sim.context import SimContext
    from sim.databricks.notifications import notifier as notifier_module
    from sim.databricks.notifications.destinations import Destinations
    from sim.databricks.runs.models import Run, RunState
    from sim.databricks.store import Store

    class HeldQueue(queue.Queue):
        def get(self, *args, **kwargs):
            item = super().get(*args, **kwargs)
            time.sleep(0.3)
            return item

    monkeypatch.setattr(notifier_module, "queue", SimpleNamespace(Queue=HeldQueue))
    ctx = SimContext(clock=VirtualClock(start=1_700_000_000.0))
    with ctx.running():
        notifier = notifier_module.Notifier(
            job_settings=lambda _job_id: {"email_notifications": {"on_success": ["team@example.com"]}},
            destinations=Destinations(Store(tmp_path / "workspace.db")), workspace_id="1", state_dir=tmp_path)
        run = Run(run_id=1, run_type="JOB_RUN", run_name="nightly", job_id=7, tasks_spec=[],
                  state=RunState(life_cycle_state="TERMINATED", result_state="SUCCESS"))
        ended_ms = ctx.clock.now_ms()
        with ctx.clock.busy():  # the run's scheduler thread, reporting its end
            notifier.run_changed(run)
        ctx.clock.sleep(3600)
        mails = notifier.outbox()
        notifier.stop()
    ctx.clock.close()
    assert [m["event_type"] for m in mails] == ["jobs.on_success"]
    assert mails[0]["time"] - ended_ms < 5_000  # an hour (3,600,000 ms) later before


def test_an_event_after_the_notifier_stopped_does_not_hold_the_clock(tmp_path) -> None:
    """Each queued event holds its clock busy until delivered; one queued after the end marker would hold it
    for ever, and a virtual clock would then never skip again (a shutdown's own waits in real time)."""
    from sim.clock import VirtualClock
    from sim.context import SimContext
    from sim.databricks.notifications.destinations import Destinations
    from sim.databricks.notifications.notifier import Notifier
    from sim.databricks.runs.models import Run, RunState
    from sim.databricks.store import Store

    ctx = SimContext(clock=VirtualClock(start=1_700_000_000.0))
    with ctx.running():
        notifier = Notifier(job_settings=lambda _job_id: {}, destinations=Destinations(Store(tmp_path / "ws.db")),
                            workspace_id="1", state_dir=tmp_path)
        notifier.stop()
        with ctx.clock.busy():  # a run cancelled by the shutdown reports its end
            notifier.run_changed(Run(run_id=2, run_type="JOB_RUN", run_name="late", job_id=7, tasks_spec=[],
                                     state=RunState(life_cycle_state="TERMINATED", result_state="CANCELED")))
        sleeper = threading.Thread(target=ctx.clock.sleep, args=(3600,), daemon=True)
        sleeper.start()
        sleeper.join(10)
        skipped = not sleeper.is_alive()
    ctx.clock.close()
    assert skipped, "the virtual clock never skipped the hour: an event queued after stop held it busy"
