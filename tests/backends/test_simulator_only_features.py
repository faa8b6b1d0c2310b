"""What only the embedded simulator offers, reached through the session fixture. On the external and
docker backends each of these must be skipped with its reason (tests/backends/test_external_backend.py
runs this file against an external `stepbricks up` and checks exactly that)."""

from __future__ import annotations

import pytest


@pytest.mark.simulator_only("the virtual clock")
def test_the_virtual_clock_moves_an_hour_when_asked(stepbricks):
    clock = stepbricks.clock()
    before = clock.now()
    clock.advance(3600)
    assert clock.now() - before >= 3600


def test_published_sns_messages_can_be_read_directly_on_the_simulator(stepbricks):
    sns = stepbricks.client("sns")
    topic = sns.create_topic(Name="backends-outbox")["TopicArn"]
    sns.publish(TopicArn=topic, Subject="hello", Message="read me back")

    messages = stepbricks.sns_messages(topic)  # skips (require_simulator) on other backends

    assert [(m["subject"], m["message"]) for m in messages] == [("hello", "read me back")]


@pytest.mark.simulator_only("fault plans on AWS services")
def test_the_active_fault_plan_is_reachable_from_the_session(stepbricks):
    from sim.faults import FaultPlan

    assert isinstance(stepbricks.faults(), FaultPlan)
