"""Run state machines on the folder's shared AwsSimulator (tests/sim/aws/conftest.py) and read their histories."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from sim.aws import AwsSimulator

ROLE_ARN = "arn:aws:iam::123456789012:role/stepbricks-sfn"
_names = itertools.count(1)


@dataclass
class Run:
    """One finished execution: DescribeExecution plus its history."""

    description: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.description["status"]

    @property
    def output(self) -> Any:
        return json.loads(self.description["output"]) if "output" in self.description else None

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def details(self, event_type: str) -> list[dict[str, Any]]:
        """The `...EventDetails` of every event of `event_type`."""
        found = []
        for event in self.events:
            if event["type"] == event_type:
                found.append(next((v for k, v in event.items() if k.endswith("EventDetails")), {}))
        return found


def wait_for(sfn: Any, execution_arn: str, timeout_s: float = 30.0) -> dict[str, Any]:
    pause = threading.Event()
    for _ in range(int(timeout_s / 0.05)):
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        pause.wait(0.05)
    raise AssertionError(f"execution {execution_arn} still RUNNING after {timeout_s} s")


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., dict[str, Any]]:
    return wait_for


@pytest.fixture(scope="session")
def sfn(aws: AwsSimulator) -> Any:
    return aws.client("stepfunctions")


@pytest.fixture
def create_machine(sfn: Any) -> Callable[..., str]:
    def create(definition: dict[str, Any] | str, **kwargs: Any) -> str:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        return sfn.create_state_machine(name=f"sm-{next(_names)}", definition=text, roleArn=ROLE_ARN,
                                        **kwargs)["stateMachineArn"]
    return create


@pytest.fixture
def run_machine(aws: AwsSimulator, sfn: Any, create_machine: Callable[..., str]) -> Callable[..., Run]:
    """Create a state machine, start it with `input`, wait for it to finish; returns a `Run`."""

    def run(definition: dict[str, Any] | str, input: Any = None, **kwargs: Any) -> Run:
        execution = aws.start_execution(create_machine(definition, **kwargs), input if input is not None else {})
        description = wait_for(sfn, execution)
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        return Run(description, events)

    return run
