"""`AwsSimulator.history_waiter`: a follower's sleep that ends when an execution records its next event, so
`stepbricks run` answers when its flight ends, not at its next 0.5 s poll."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sim.aws import AwsSimulator

PASS = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}


def test_a_follower_sleeping_on_the_waiter_wakes_at_the_executions_events_not_at_its_interval(
        aws: AwsSimulator, sfn: Any, create_machine: Callable[..., str], wait_for: Callable[..., dict[str, Any]]):
    machine = create_machine(PASS)
    sleep = aws.history_waiter()
    woke = threading.Event()
    follower = threading.Thread(target=lambda: (sleep(600.0), woke.set()), daemon=True)
    follower.start()
    execution = aws.start_execution(machine, {"n": 1})
    follower.join(60)
    assert woke.is_set()  # long before the 600 s interval
    assert wait_for(sfn, execution)["status"] == "SUCCEEDED"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types[-1] == "ExecutionSucceeded"  # what the woken follower's next poll reads
